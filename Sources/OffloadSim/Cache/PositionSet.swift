/// A set of positions `0..<capacity` as a 64-ary tree of bit words (a hierarchical bitmap):
/// level 0 holds a bit per position, each level above a bit per word of the level below,
/// set exactly when that word is non-zero, up to a single top word. Membership, insertion,
/// removal, the largest member and the largest member below a position each touch one word
/// per level: ⌈log₆₄ capacity⌉ levels (four for the 5.2 M lookups of the ESFT trace), a
/// leading-zero count per level to descend. Memory: capacity / 8 bytes, plus 1/63 of that
/// for the upper levels.
///
/// It is a view over words it does not own: the owner allocates them with
/// ``allocate(capacity:)``, copies them with ``copy()`` and frees them with ``deallocate()``
/// (``NextUseQueue`` keeps it in its copy-on-write storage, so that a lookup's operations
/// check uniqueness once, not per word).
struct PositionSet {
    /// The words of every level, level 0 first.
    private let words: UnsafeMutablePointer<UInt64>
    /// Where each level starts in `words`, and (at index `levels`) the total word count.
    private let levelStart: UnsafeMutablePointer<Int>
    /// Levels, at least one.
    private let levels: Int
    /// Positions the set can hold.
    let capacity: Int

    private init(words: UnsafeMutablePointer<UInt64>, levelStart: UnsafeMutablePointer<Int>, levels: Int, capacity: Int) {
        (self.words, self.levelStart, self.levels, self.capacity) = (words, levelStart, levels, capacity)
    }

    /// An empty set over `0..<capacity`, in newly allocated words.
    static func allocate(capacity: Int) -> PositionSet {
        precondition(capacity >= 0)
        var counts: [Int] = []
        var bits = max(capacity, 1)
        repeat {
            counts.append((bits + 63) / 64)
            bits = counts.last!
        } while bits > 1
        let levelStart = UnsafeMutablePointer<Int>.allocate(capacity: counts.count + 1)
        var offset = 0
        for (level, count) in counts.enumerated() {
            levelStart[level] = offset
            offset += count
        }
        levelStart[counts.count] = offset
        return PositionSet(words: .filled(with: 0, count: offset), levelStart: levelStart, levels: counts.count, capacity: capacity)
    }

    /// A set with the same members in newly allocated words.
    func copy() -> PositionSet {
        let total = levelStart[levels]
        let words = UnsafeMutablePointer<UInt64>.allocate(capacity: total)
        words.initialize(from: self.words, count: total)
        let levelStart = UnsafeMutablePointer<Int>.allocate(capacity: levels + 1)
        levelStart.initialize(from: self.levelStart, count: levels + 1)
        return PositionSet(words: words, levelStart: levelStart, levels: levels, capacity: capacity)
    }

    /// Frees the words; the set must not be used after.
    func deallocate() {
        words.deallocate()
        levelStart.deallocate()
    }

    /// Whether `position` is a member.
    @inline(__always)
    func contains(_ position: Int) -> Bool {
        words[position &>> 6] & (1 &<< UInt64(position & 63)) != 0
    }

    /// Adds `position` (in `0..<capacity`). Stops at the first level whose word already had a
    /// member: the levels above already mark it.
    @inline(__always)
    func insert(_ position: Int) {
        var index = position
        for level in 0..<levels {
            let word = words + (levelStart[level] &+ index &>> 6)
            let before = word.pointee
            word.pointee = before | (1 &<< UInt64(index & 63))
            if before != 0 { return }
            index &>>= 6
        }
    }

    /// Removes `position` (a member or not). Stops at the first level whose word keeps a member.
    @inline(__always)
    func remove(_ position: Int) {
        var index = position
        for level in 0..<levels {
            let word = words + (levelStart[level] &+ index &>> 6)
            let after = word.pointee & ~(1 &<< UInt64(index & 63))
            word.pointee = after
            if after != 0 { return }
            index &>>= 6
        }
    }

    /// The largest member, or nil when the set is empty.
    @inline(__always)
    var last: Int? {
        let top = words[levelStart[levels - 1]]
        guard top != 0 else { return nil }
        return descend(from: levels - 1, index: 63 &- top.leadingZeroBitCount)
    }

    /// The largest member below `position` (any position from 0), or nil when there is none.
    @inline(__always)
    func last(below position: Int) -> Int? {
        guard position < capacity else { return last }
        var index = position
        for level in 0..<levels {
            let below = words[levelStart[level] &+ index &>> 6] & (1 &<< UInt64(index & 63) &- 1)
            if below != 0 { return descend(from: level, index: (index & ~63) | (63 &- below.leadingZeroBitCount)) }
            index &>>= 6
        }
        return nil
    }

    /// The largest position under the bit `index` of `level` (a set bit).
    @inline(__always)
    private func descend(from level: Int, index start: Int) -> Int {
        var index = start
        var level = level
        while level > 0 {
            level &-= 1
            index = (index &<< 6) | (63 &- words[levelStart[level] &+ index].leadingZeroBitCount)
        }
        return index
    }
}
