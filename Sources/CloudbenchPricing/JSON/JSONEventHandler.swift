/// Receives the events of `JSONStreamParser` in document order.
///
/// Strings and numbers arrive as raw UTF-8 in a buffer that is only valid during the call, so a
/// handler pays for a Swift `String` only for the values it keeps.
public protocol JSONEventHandler: AnyObject {
    func startObject() throws
    func endObject() throws
    func startArray() throws
    func endArray() throws
    /// An object key (escapes already decoded).
    func key(_ utf8: UnsafeBufferPointer<UInt8>) throws
    /// A string value (escapes already decoded).
    func string(_ utf8: UnsafeBufferPointer<UInt8>) throws
    /// A number exactly as written, e.g. `0.0104` or `1.2E-3`.
    func number(_ text: UnsafeBufferPointer<UInt8>) throws
    /// `true`, `false` or `null` (`nil`).
    func literal(_ value: Bool?) throws
}
