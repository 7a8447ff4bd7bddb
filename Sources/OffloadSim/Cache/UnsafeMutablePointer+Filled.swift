extension UnsafeMutablePointer {
    /// A new allocation of `count` elements, each initialised to `value`; the caller deallocates it.
    /// The cache's copy-on-write storages (``CacheSlots``, ``RecencyList``) are made of these.
    static func filled(with value: Pointee, count: Int) -> UnsafeMutablePointer {
        let pointer = allocate(capacity: count)
        pointer.initialize(repeating: value, count: count)
        return pointer
    }

    /// A new allocation holding a copy of this one's first `count` elements; the caller deallocates it.
    func copied(count: Int) -> UnsafeMutablePointer {
        let copy = UnsafeMutablePointer.allocate(capacity: count)
        copy.initialize(from: self, count: count)
        return copy
    }
}
