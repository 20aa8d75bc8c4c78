/// Bytes per write and per read, sized to the rate a stream carries.
///
/// At a low rate a large write is a large slice of time: with 128 KiB writes a 0.5 MB/s
/// stream moves a quarter of a second per write, so where the window's edges fall moves the
/// sender's count by whole writes. Writes and reads of about 1 % of a second's bytes keep
/// every count within a hundredth of a second; at high rates the largest size keeps the
/// syscalls per byte low.
public enum IOSize {
    /// The sender's write: the power of two at or below 1 % of a second's bytes, from 1 KiB up
    /// to `largest` (the request's size); `largest` when the rate is unknown.
    public static func write(forRate bytesPerSecond: Double?, largest: Int) -> Int {
        sized(bytesPerSecond, smallest: min(1024, largest), largest: largest)
    }

    /// The receiver's read bound: the same rule, from 4 KiB up to 1 MiB.
    public static func read(forRate bytesPerSecond: Double?) -> Int {
        sized(bytesPerSecond, smallest: 4096, largest: largestRead)
    }

    /// Reads during warm-up and at high rates. (128 KiB and 256 KiB measured no faster on veth.)
    public static let largestRead = 1 << 20

    private static func sized(_ rate: Double?, smallest: Int, largest: Int) -> Int {
        guard let rate, rate.isFinite, rate > 0 else { return largest }
        let target = rate / 100
        guard target < Double(largest) else { return largest }
        var size = smallest
        while size * 2 <= Int(target) && size * 2 <= largest { size *= 2 }
        return size
    }
}
