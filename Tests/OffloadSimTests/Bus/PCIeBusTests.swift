import OffloadSim
import Testing

/// Drives a bus alone: submissions at given times, completions as (tag, finish ns).
private struct BusDriver {
    var bus: PCIeBus
    var queue = EventQueue()
    var now: Nanoseconds = 0
    var finished: [(tag: Int32, at: Nanoseconds)] = []

    init(_ links: [BusLink], upstream: Double? = nil, prioritisesDemand: Bool = true) {
        bus = PCIeBus(links: links, upstreamGBps: upstream, prioritisesDemand: prioritisesDemand)
    }

    /// Runs events up to `time` (inclusive), then sets the clock to it.
    mutating func run(until time: Nanoseconds = .max) {
        while let next = queue.peek, next.time <= time {
            let event = queue.popNext()!
            now = event.time
            if let done = bus.handle(event, now: now, queue: &queue) { finished.append((done.tag, done.finishedAt)) }
        }
        if time != .max { now = time }
    }

    @discardableResult
    mutating func submit(_ bytes: Int, _ priority: CopyPriority = .demand, port: Int = 0, tag: Int32, notBefore: Nanoseconds = 0,
                         pieces: Int = 1) -> Int32 {
        bus.submit(bytes: bytes, priority: priority, port: port, tag: tag, now: now, queue: &queue, notBefore: notBefore, pieces: pieces)
    }

    func finish(of tag: Int32) -> Nanoseconds? { finished.first { $0.tag == tag }?.at }
}

@Suite("PCIe bus")
struct PCIeBusTests {
    @Test("N copies of S bytes at B GB/s with latency L finish at k × (L + S/B)")
    func serialCopies() {
        var driver = BusDriver([BusLink(gbps: 25, latencyNs: 5_000)])
        for tag in 0..<3 { driver.submit(1_000_000, tag: Int32(tag)) }
        driver.run()
        // 1,000,000 B at 25 B/ns = 40,000 ns, plus 5,000 ns latency each.
        #expect(driver.finished.map(\.at) == [45_000, 90_000, 135_000])
        #expect(driver.bus.busyNanoseconds(now: driver.now) == 135_000)
    }

    @Test("a demand copy starts before queued prefetches, which keep their order")
    func demandAheadOfPrefetch() {
        var driver = BusDriver([BusLink(gbps: 1, latencyNs: 0)])
        driver.submit(1_000, .prefetch, tag: 1)
        driver.submit(1_000, .prefetch, tag: 2)
        driver.submit(1_000, .demand, tag: 3)
        driver.submit(1_000, .demand, tag: 4)
        driver.run()
        // Prefetch 1 already holds the engine; then demands 3 and 4 in order; prefetch 2 last.
        #expect(driver.finished.map(\.tag) == [1, 3, 4, 2])
        #expect(driver.finished.map(\.at) == [1_000, 2_000, 3_000, 4_000])
    }

    @Test("with chunking a demand copy overtakes a long prefetch at the next chunk boundary")
    func chunkedPreemption() {
        var driver = BusDriver([BusLink(gbps: 1, latencyNs: 0, chunkBytes: 1_000_000)])
        driver.submit(4_000_000, .prefetch, tag: 1)
        driver.run(until: 1_500_000)
        driver.submit(1_000_000, .demand, tag: 2)
        driver.run()
        // The prefetch's second chunk ends at 2.0 ms; the demand runs 2.0-3.0 ms; the prefetch resumes until 5.0 ms.
        #expect(driver.finish(of: 2) == 3_000_000)
        #expect(driver.finish(of: 1) == 5_000_000)
    }

    @Test("recorded pieces list each chunk of a prefetch and the demand copy between them, where and when each landed")
    func recordedPieces() {
        var driver = BusDriver([BusLink(gbps: 1, latencyNs: 0, chunkBytes: 1_000_000)])
        driver.bus.recordsPieces = true
        driver.submit(4_000_000, .prefetch, tag: 1)
        driver.run(until: 1_500_000)
        driver.submit(1_000_000, .demand, tag: 2, pieces: 2)
        driver.run()
        let landed = driver.bus.pieces.map { [Int($0.tag), $0.offset, $0.bytes, Int($0.startedAt), Int($0.finishedAt)] }
        #expect(landed == [[1, 0, 1_000_000, 0, 1_000_000], [1, 1_000_000, 1_000_000, 1_000_000, 2_000_000],
                           [2, 0, 500_000, 2_000_000, 2_500_000], [2, 500_000, 500_000, 2_500_000, 3_000_000],
                           [1, 2_000_000, 1_000_000, 3_000_000, 4_000_000], [1, 3_000_000, 1_000_000, 4_000_000, 5_000_000]])
    }

    @Test("pieces are not kept unless asked for")
    func piecesOnlyWhenAsked() {
        var driver = BusDriver([BusLink(gbps: 1, latencyNs: 0, chunkBytes: 1_000_000)])
        driver.submit(4_000_000, .prefetch, tag: 1)
        driver.run()
        #expect(driver.bus.pieces.isEmpty)
    }

    @Test("without chunking the demand copy waits for the whole prefetch")
    func unchunkedWaits() {
        var driver = BusDriver([BusLink(gbps: 1, latencyNs: 0)])
        driver.submit(4_000_000, .prefetch, tag: 1)
        driver.run(until: 1_500_000)
        driver.submit(1_000_000, .demand, tag: 2)
        driver.run()
        #expect(driver.finish(of: 1) == 4_000_000)
        #expect(driver.finish(of: 2) == 5_000_000)
    }

    @Test("each chunk of a prefetch pays the per-copy latency; a demand copy moves whole")
    func chunkLatency() {
        var driver = BusDriver([BusLink(gbps: 1, latencyNs: 1_000, chunkBytes: 1_000_000)])
        driver.submit(4_000_000, .prefetch, tag: 1)
        driver.run()
        #expect(driver.finish(of: 1) == 4_004_000)
        driver.submit(4_000_000, .demand, tag: 2)
        driver.run()
        #expect(driver.finish(of: 2) == Nanoseconds(8_005_000))
    }

    @Test("two copy engines share the link's bandwidth")
    func enginesShareBandwidth() {
        var driver = BusDriver([BusLink(gbps: 1, latencyNs: 0, copyEngines: 2)])
        driver.submit(1_000_000, tag: 1)
        driver.submit(1_000_000, tag: 2)
        driver.run()
        #expect(driver.finished.map(\.at) == [2_000_000, 2_000_000])
    }

    @Test("two GPUs behind one upstream link share it fairly, rates recomputed when a copy starts or ends")
    func fairSharing() {
        var driver = BusDriver([BusLink(gbps: 20, latencyNs: 0), BusLink(gbps: 20, latencyNs: 0)], upstream: 30)
        driver.submit(3_000_000, port: 0, tag: 1)
        driver.run(until: 100_000)
        driver.submit(3_000_000, port: 1, tag: 2)
        driver.run()
        // GPU 0 alone at 20 B/ns moves 2 MB by 100 µs; then both get 15 B/ns: GPU 0's last
        // 1 MB takes 66,666.7 ns (→ 166,667); GPU 1 has 2 MB left then, alone at 20 B/ns: 100 µs more.
        #expect(driver.finish(of: 1) == 166_667)
        #expect(driver.finish(of: 2) == 266_667)
    }

    @Test("a port's own bandwidth caps it below the fair share of the upstream")
    func portCap() {
        var driver = BusDriver([BusLink(gbps: 10, latencyNs: 0), BusLink(gbps: 40, latencyNs: 0)], upstream: 30)
        driver.submit(1_000_000, port: 0, tag: 1)
        driver.submit(2_000_000, port: 1, tag: 2)
        driver.run()
        // Max-min fair: GPU 0 keeps its 10 B/ns, GPU 1 gets the remaining 20 B/ns.
        #expect(driver.finish(of: 1) == 100_000)
        #expect(driver.finish(of: 2) == 100_000)
    }

    @Test("a cancelled queued prefetch never completes and frees its place")
    func cancellation() {
        var driver = BusDriver([BusLink(gbps: 1, latencyNs: 0)])
        driver.submit(1_000, .prefetch, tag: 1)
        let second = driver.submit(1_000, .prefetch, tag: 2)
        driver.submit(1_000, .prefetch, tag: 3)
        #expect(driver.bus.cancel(second) == 0)
        driver.run()
        #expect(driver.finished.map(\.tag) == [1, 3])
        #expect(driver.finish(of: 3) == 2_000)
    }

    @Test("a running copy cannot be cancelled")
    func runningNotCancelled() {
        var driver = BusDriver([BusLink(gbps: 1, latencyNs: 0)])
        let first = driver.submit(1_000, .prefetch, tag: 1)
        #expect(driver.bus.cancel(first) == nil)
    }

    @Test("idle gaps do not count as busy time")
    func busyTime() {
        var driver = BusDriver([BusLink(gbps: 1, latencyNs: 0)])
        driver.submit(1_000, tag: 1)
        driver.run(until: 5_000)
        driver.submit(2_000, tag: 2)
        driver.run()
        #expect(driver.bus.busyNanoseconds(now: 10_000) == 3_000)
    }

    @Test("a copy of several calls pays the latency once per call")
    func piecesPayLatencyEach() {
        var driver = BusDriver([BusLink(gbps: 25, latencyNs: 5_000)])
        driver.submit(1_000_000, tag: 0, pieces: 2)
        driver.run()
        // Two calls of 500,000 B: 2 × (5,000 + 20,000).
        #expect(driver.finished.map(\.at) == [50_000])
    }

    @Test("a copy the host issues later starts then, and the queue behind it waits")
    func notBeforeDelaysTheQueue() {
        var driver = BusDriver([BusLink(gbps: 25, latencyNs: 5_000)])
        driver.submit(1_000_000, tag: 0, notBefore: 10_000)
        driver.submit(1_000_000, tag: 1, notBefore: 12_000)
        driver.run()
        // The first starts at 10,000 and ends at 55,000; the second follows it.
        #expect(driver.finished.map(\.at) == [55_000, 100_000])
        #expect(driver.bus.busyNanoseconds(now: driver.now) == 90_000)
    }

    @Test("with one FIFO queue a demand copy waits behind the prefetches submitted before it", arguments: [
        (true, [Int32(0), 2, 1]), (false, [Int32(0), 1, 2]),
    ])
    func fifoQueueKeepsOrder(prioritisesDemand: Bool, order: [Int32]) {
        var driver = BusDriver([BusLink(gbps: 25, latencyNs: 5_000)], prioritisesDemand: prioritisesDemand)
        driver.submit(1_000_000, .prefetch, tag: 0)
        driver.submit(1_000_000, .prefetch, tag: 1)
        driver.submit(1_000_000, .demand, tag: 2)
        driver.run()
        // The first prefetch starts at once; the demand copy overtakes the second only with priority classes.
        #expect(driver.finished.map(\.tag) == order)
    }
}
