import OffloadSim
import Testing

@Suite("Cache admission")
struct CacheAdmissionTests {
    /// Room for two; batches [A B C], [C], [A B] (A = 0, B = 1, C = 2), LRU.
    /// Hard cap: A and B enter, C finds only locked experts and is not admitted; [C] evicts A;
    /// [A B]: A evicts C, B hits — 1 hit. After batch: A, B and C all enter (3 > 2) and nothing
    /// unlocked can go; [C] hits and the trim evicts A; [A B]: A enters, B hits, the trim
    /// evicts C — 2 hits.
    @Test("after-batch admission lets a batch run the cache over its budget and trims it afterwards",
          arguments: [(CacheAdmission.hardCap, 1), (.afterBatch, 2)])
    func admissionRules(admission: CacheAdmission, expected: Int) {
        var replay = CacheReplay(capacityBytes: 2, expertBytes: [1], experts: 8, eviction: .lru, admission: admission)
        for batch in [[0, 1, 2], [2], [0, 1]] { replay.batch(batch[...], decode: true) }
        #expect(replay.hits == expected)
        #expect(replay.cache.bytesInUse <= 2)
    }

    @Test("after a batch larger than the budget, the cache stays over it until the next trim can evict")
    func afterBatchRunsOver() {
        var replay = CacheReplay(capacityBytes: 2, expertBytes: [1], experts: 8, eviction: .lru, admission: .afterBatch)
        replay.batch([0, 1, 2][...], decode: true)
        #expect(replay.cache.bytesInUse == 3)
    }
}
