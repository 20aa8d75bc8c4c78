/// A size written in a profile: `575 MB`, `1.5 GB`, `64 MiB`, `1000000 B` (decimal unless `i`).
struct ByteCount: Hashable, Sendable {
    let bytes: Int

    private static let units: [(suffix: String, factor: Double)] = [
        ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024),
        ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("kB", 1e3), ("B", 1),
    ]

    /// Whole bytes, or nil for anything that is not `<number> <unit>` or is beyond 10^15 bytes.
    init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in Self.units where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Double(number), value.isFinite, value > 0, value * factor < 1e15 else { return nil }
            bytes = Int((value * factor).rounded())
            return
        }
        return nil
    }
}
