/// Which datagram counters a receiver has accepted, as IPsec and WireGuard keep it: the highest
/// counter seen and a bitmap of the `size` below it. A counter seen before, or older than the
/// window, is a replay; a late one inside the window still counts once.
public struct ReplayWindow: Sendable {
    /// Counters this far behind the highest are still accepted once (reordering on a busy path).
    public static let size = 4096
    private var bits = [UInt64](repeating: 0, count: ReplayWindow.size / 64)
    public private(set) var highest: UInt64 = 0

    public init() {}

    /// Whether `counter` is new (and now spent). Counter 0 is never sent, so never accepted.
    public mutating func accept(_ counter: UInt64) -> Bool {
        let size = UInt64(ReplayWindow.size)
        guard counter > 0 else { return false }
        if counter > highest {
            // Slide: the slots between the old highest and the new one are free again.
            let advance = min(counter - highest, size)
            var c = counter - advance + 1
            while c <= counter { clear(c); c += 1 }
            highest = counter
            set(counter)
            return true
        }
        guard highest - counter < size else { return false }
        if isSet(counter) { return false }
        set(counter)
        return true
    }

    private func slot(_ c: UInt64) -> (Int, UInt64) { (Int((c % UInt64(ReplayWindow.size)) / 64), 1 << (c % 64)) }
    private mutating func set(_ c: UInt64) { let (i, m) = slot(c); bits[i] |= m }
    private mutating func clear(_ c: UInt64) { let (i, m) = slot(c); bits[i] &= ~m }
    private func isSet(_ c: UInt64) -> Bool { let (i, m) = slot(c); return bits[i] & m != 0 }
}
