/// Quotes `s` for a POSIX shell: single quotes, with embedded ones spliced in as `'\''`.
public func shellQuote(_ s: String) -> String {
    if !s.isEmpty, s.allSatisfy({ $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || "-_./:=@%+,".contains($0) }) {
        return s
    }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
