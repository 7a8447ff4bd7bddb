extension Array: VictimSink where Element == Int {
    /// Appends the victim's key.
    mutating func record(_ key: Int) { append(key) }
}
