import DequeModule

/// Host-to-device copies over PCIe (or NVLink-C2C) for one or more GPUs, as a fluid
/// model (DESIGN.md §3).
///
/// Each GPU has a port (``BusLink``) with a number of copy engines. A copy waits in its
/// port's queue (demand ahead of prefetch, FIFO within a class), occupies an engine for
/// the link's fixed latency, then moves its bytes at a rate that is recomputed whenever
/// a transfer starts or ends: the transfers active on a port share its bandwidth
/// equally, and when the ports sit behind a shared upstream link of `upstreamGBps`, the
/// upstream is divided max-min fairly among all active transfers (a transfer never gets
/// more than its port's share). With chunking, a prefetch yields its engine to a waiting
/// demand copy at each chunk boundary and resumes later; queued prefetches can be
/// cancelled. The bus schedules its own events on the simulator's ``EventQueue`` and
/// hands them back through ``handle(_:now:queue:)``.
///
/// Two things an engine adds (``ServingEngine``): a copy may be issued by the host later
/// than it is submitted (`notBefore`: it joins its queue then, and the queue waits for its
/// head), and an expert may be several copy calls (`pieces`, one per weight tensor), each
/// paying the link's latency. With `prioritisesDemand` false every copy joins one FIFO
/// queue, as on an engine with a single transfer stream.
///
/// Costs: submit, cancel and promote are O(queue length) at worst; each start or end of
/// a transfer is O(active transfers + ports × log ports).
public struct PCIeBus: Sendable {
    enum State: UInt8 { case queued, latency, transferring, done, cancelled }

    struct Copy {
        var tag: Int32 = 0
        var bytes = 0
        var port = 0
        var priority = CopyPriority.demand
        var state = State.done
        var unstartedBytes = 0
        var pieceRemaining = 0.0
        var rate = 0.0
        var moved = 0.0
        var epoch: UInt32 = 0
        var startedAt: Nanoseconds = -1
        var notBefore: Nanoseconds = 0
        var pieceBytes = 0
        /// The piece under way: where in the copy it begins and when it took the engine.
        var pieceOffset = 0
        var pieceStartedAt: Nanoseconds = 0
    }

    struct Port {
        var link: BusLink
        var demand = Deque<Int32>()
        var prefetch = Deque<Int32>()
        var active = 0
        var busySince: Nanoseconds = 0
        var busyNs: Nanoseconds = 0
        var wakeAt: Nanoseconds = -1
    }

    private var copies: [Copy] = []
    private var freeIDs: [Int32] = []
    private var ports: [Port]
    private var flows: [Int32] = []
    private var lastUpdate: Nanoseconds = 0
    /// Bandwidth of a link the ports share, GB/s; nil when each port has its own.
    public let upstreamGBps: Double?
    /// Whether demand copies overtake queued prefetches (two queues); false: one FIFO queue.
    public let prioritisesDemand: Bool
    /// One port with one engine and no shared upstream: a transfer always has the whole
    /// link, so its end is known when its latency starts and one event covers both.
    private let exclusive: Bool
    /// Whether every piece a copy moves as (a weight tensor's copy call, a prefetch's chunk) is
    /// listed in ``pieces`` when it lands, for a replay that issues the copy calls the
    /// simulation made; off, nothing is kept.
    public var recordsPieces = false
    /// The pieces landed since the caller last emptied the list (only while ``recordsPieces``),
    /// in the order they landed.
    public var pieces: [CopyPiece] = []

    /// A bus with one port per link in `links`, optionally behind a shared upstream link.
    public init(links: [BusLink], upstreamGBps: Double? = nil, prioritisesDemand: Bool = true) {
        precondition(!links.isEmpty && links.allSatisfy { $0.gbps > 0 && $0.copyEngines > 0 && $0.latencyNs >= 0 })
        ports = links.map { Port(link: $0) }
        self.upstreamGBps = upstreamGBps
        self.prioritisesDemand = prioritisesDemand
        exclusive = links.count == 1 && links[0].copyEngines == 1 && upstreamGBps == nil
        copies.reserveCapacity(64)
    }

    /// Queues a copy of `bytes` to GPU `port` and starts it if an engine is free; returns its id.
    ///
    /// - Parameters:
    ///   - notBefore: when the host issues it, ns; it cannot start earlier (its queue waits for it).
    ///   - pieces: copy calls it is made of (weight tensors), each paying the link's latency.
    public mutating func submit(bytes: Int, priority: CopyPriority, port: Int = 0, tag: Int32,
                                now: Nanoseconds, queue: inout EventQueue, notBefore: Nanoseconds = 0, pieces: Int = 1) -> Int32 {
        let id: Int32
        if let reused = freeIDs.popLast() { id = reused } else { id = Int32(copies.count); copies.append(Copy()) }
        let epoch = copies[Int(id)].epoch
        copies[Int(id)] = Copy(tag: tag, bytes: bytes, port: port, priority: priority, state: .queued,
                               unstartedBytes: bytes, epoch: epoch, notBefore: notBefore,
                               pieceBytes: pieces > 1 ? (bytes + pieces - 1) / pieces : 0)
        if priority == .demand || !prioritisesDemand { ports[port].demand.append(id) } else { ports[port].prefetch.append(id) }
        dispatch(port: port, now: now, queue: &queue)
        return id
    }

    /// Handles one of the bus's own events; returns the copy that finished, if one did.
    public mutating func handle(_ event: SimEvent, now: Nanoseconds, queue: inout EventQueue) -> CopyCompletion? {
        if event.payload < 0 {
            // A port's queue head has been issued by the host.
            let port = -Int(event.payload) - 1
            if ports[port].wakeAt == now { ports[port].wakeAt = -1 }
            dispatch(port: port, now: now, queue: &queue)
            return nil
        }
        let id = Int(event.payload)
        guard id < copies.count, copies[id].epoch == event.stamp else { return nil }
        switch copies[id].state {
        case .latency:
            advanceFlows(to: now)
            copies[id].state = .transferring
            flows.append(Int32(id))
            recomputeRates(now: now, queue: &queue)
            return nil
        case .transferring:
            advanceFlows(to: now)
            copies[id].moved += copies[id].pieceRemaining
            copies[id].pieceRemaining = 0
            if recordsPieces {
                let copy = copies[id]
                pieces.append(CopyPiece(id: Int32(id), tag: copy.tag, offset: copy.pieceOffset,
                                        bytes: copy.bytes - copy.unstartedBytes - copy.pieceOffset, startedAt: copy.pieceStartedAt, finishedAt: now))
            }
            flows.removeAll { $0 == Int32(id) }
            let port = copies[id].port
            var completion: CopyCompletion?
            if copies[id].unstartedBytes > 0 {
                if copies[id].priority == .prefetch && prioritisesDemand && !ports[port].demand.isEmpty {
                    copies[id].state = .queued
                    ports[port].prefetch.prepend(Int32(id))
                    release(port: port, now: now)
                } else {
                    startPiece(Int32(id), now: now, queue: &queue)
                }
            } else {
                let copy = copies[id]
                completion = CopyCompletion(id: Int32(id), tag: copy.tag, bytes: copy.bytes, priority: copy.priority,
                                            port: port, startedAt: copy.startedAt, finishedAt: now)
                copies[id].state = .done
                freeIDs.append(Int32(id))
                release(port: port, now: now)
            }
            recomputeRates(now: now, queue: &queue)
            dispatch(port: port, now: now, queue: &queue)
            return completion
        case .queued, .done, .cancelled:
            return nil
        }
    }

    /// Cancels a copy still waiting in its queue (a whole copy, or a chunked prefetch between
    /// chunks); returns the bytes it had already moved, or nil when it is running or finished.
    public mutating func cancel(_ id: Int32) -> Int? {
        guard Int(id) < copies.count, copies[Int(id)].state == .queued else { return nil }
        let port = copies[Int(id)].port
        ports[port].demand.removeAll { $0 == id }
        ports[port].prefetch.removeAll { $0 == id }
        copies[Int(id)].state = .cancelled
        copies[Int(id)].epoch &+= 1
        freeIDs.append(id)
        return Int(copies[Int(id)].moved.rounded())
    }

    /// Raises a prefetch to demand priority (the layer now waits for it): a queued one moves
    /// to the back of the demand queue; a running one is no longer preempted at chunk boundaries.
    public mutating func promote(_ id: Int32, now: Nanoseconds, queue: inout EventQueue) {
        guard Int(id) < copies.count, copies[Int(id)].priority == .prefetch else { return }
        let copy = copies[Int(id)]
        guard copy.state != .done && copy.state != .cancelled else { return }
        copies[Int(id)].priority = .demand
        if copy.state == .queued && prioritisesDemand {
            ports[copy.port].prefetch.removeAll { $0 == id }
            ports[copy.port].demand.append(id)
            dispatch(port: copy.port, now: now, queue: &queue)
        }
    }

    /// Whether copy `id` is still queued (not yet holding an engine).
    public func isQueued(_ id: Int32) -> Bool { Int(id) < copies.count && copies[Int(id)].state == .queued }

    /// Whether any of `port`'s engines is moving a copy now.
    public func isCopying(port: Int = 0) -> Bool { ports[port].active > 0 }

    /// Nanoseconds during which at least one of `port`'s engines was occupied, up to `now`.
    public func busyNanoseconds(port: Int = 0, now: Nanoseconds) -> Nanoseconds {
        ports[port].busyNs + (ports[port].active > 0 ? now - ports[port].busySince : 0)
    }

    // MARK: Engines

    private mutating func dispatch(port: Int, now: Nanoseconds, queue: inout EventQueue) {
        while ports[port].active < ports[port].link.copyEngines {
            guard let id = nextIssued(port: port, now: now, queue: &queue) else { return }
            if ports[port].active == 0 { ports[port].busySince = now }
            ports[port].active += 1
            if copies[Int(id)].startedAt < 0 { copies[Int(id)].startedAt = now }
            startPiece(id, now: now, queue: &queue)
        }
    }

    /// Takes the head of the demand queue, else of the prefetch queue, that the host has
    /// issued by `now`; when neither has been, wakes the port when the first will be.
    private mutating func nextIssued(port: Int, now: Nanoseconds, queue: inout EventQueue) -> Int32? {
        var due = Nanoseconds.max
        if let head = ports[port].demand.first {
            if copies[Int(head)].notBefore <= now { return ports[port].demand.removeFirst() }
            due = copies[Int(head)].notBefore
        }
        if let head = ports[port].prefetch.first {
            if copies[Int(head)].notBefore <= now { return ports[port].prefetch.removeFirst() }
            due = min(due, copies[Int(head)].notBefore)
        }
        if due != .max && (ports[port].wakeAt < now || due < ports[port].wakeAt) {
            ports[port].wakeAt = due
            queue.schedule(at: due, phase: .copy, payload: -Int32(port) - 1)
        }
        return nil
    }

    private mutating func startPiece(_ id: Int32, now: Nanoseconds, queue: inout EventQueue) {
        let link = ports[copies[Int(id)].port].link
        let copy = copies[Int(id)]
        let remaining = Self.nextPieceBytes(bytes: copy.bytes, unstarted: copy.unstartedBytes, pieceBytes: copy.pieceBytes)
        // Only prefetches are chunked: a demand copy moves whole, and a prefetch promoted to
        // demand moves the rest whole.
        let chunked = link.chunkBytes > 0 && copies[Int(id)].priority == .prefetch
        let piece = chunked ? min(link.chunkBytes, remaining) : remaining
        copies[Int(id)].pieceOffset = copy.bytes - copy.unstartedBytes
        copies[Int(id)].pieceStartedAt = now
        copies[Int(id)].unstartedBytes -= piece
        copies[Int(id)].pieceRemaining = Double(piece)
        copies[Int(id)].epoch &+= 1
        if exclusive {
            copies[Int(id)].rate = link.gbps
            copies[Int(id)].state = .transferring
            let finish = now + Self.exclusivePieceNanoseconds(bytes: piece, link: link)
            queue.schedule(at: finish, phase: .copy, payload: id, stamp: copies[Int(id)].epoch)
            return
        }
        copies[Int(id)].rate = 0
        copies[Int(id)].state = .latency
        queue.schedule(at: now + link.latencyNs, phase: .copy, payload: id, stamp: copies[Int(id)].epoch)
    }

    /// The bytes of a copy's next piece: a copy made of several calls (`pieceBytes` > 0, the
    /// size of one weight tensor) moves each tensor as its own piece.
    private static func nextPieceBytes(bytes: Int, unstarted: Int, pieceBytes: Int) -> Int {
        pieceBytes > 0 ? min(unstarted, pieceBytes - (bytes - unstarted) % pieceBytes) : unstarted
    }

    /// One piece's time on a link it has to itself: the calibrated copy table's time for its
    /// size, else the link's latency plus its bytes at the link's bandwidth, ns.
    private static func exclusivePieceNanoseconds(bytes: Int, link: BusLink) -> Nanoseconds {
        link.measuredTimes.map { Units.roundUp($0.time(tokens: bytes)) } ?? link.latencyNs + Units.transferNanoseconds(bytes: bytes, gbps: link.gbps)
    }

    /// Whether the bus is one port with one copy engine and no shared upstream: copies then
    /// run one at a time, in queue order, each with the whole link.
    public var isExclusive: Bool { exclusive }

    /// How long a demand copy of `bytes` made of `pieces` calls holds an exclusive bus
    /// (``isExclusive``), ns: the sum of its pieces' times, exactly as ``submit`` times them.
    /// nil on a bus that is not exclusive, where a copy's time depends on the others.
    public func exclusiveCopyNanoseconds(bytes: Int, pieces: Int) -> Nanoseconds? {
        guard exclusive else { return nil }
        let pieceBytes = pieces > 1 ? (bytes + pieces - 1) / pieces : 0
        var unstarted = bytes
        var total: Nanoseconds = 0
        repeat {
            let piece = Self.nextPieceBytes(bytes: bytes, unstarted: unstarted, pieceBytes: pieceBytes)
            unstarted -= piece
            total += Self.exclusivePieceNanoseconds(bytes: piece, link: ports[0].link)
        } while unstarted > 0
        return total
    }

    private mutating func release(port: Int, now: Nanoseconds) {
        ports[port].active -= 1
        if ports[port].active == 0 { ports[port].busyNs += now - ports[port].busySince }
    }

    // MARK: Fluid rates

    private mutating func advanceFlows(to now: Nanoseconds) {
        let elapsed = Double(now - lastUpdate)
        lastUpdate = now
        guard elapsed > 0 else { return }
        for id in flows {
            let moved = min(copies[Int(id)].rate * elapsed, copies[Int(id)].pieceRemaining)
            copies[Int(id)].pieceRemaining -= moved
            copies[Int(id)].moved += moved
        }
    }

    private mutating func recomputeRates(now: Nanoseconds, queue: inout EventQueue) {
        lastUpdate = now
        guard !flows.isEmpty else { return }
        if ports.count == 1 {
            // One GPU: the active transfers split its link equally.
            let rate = ports[0].link.gbps / Double(flows.count)
            for id in flows { reschedule(id, rate: rate, now: now, queue: &queue) }
            return
        }
        var perPort = [Int](repeating: 0, count: ports.count)
        for id in flows { perPort[copies[Int(id)].port] += 1 }
        var portRate = ports.indices.map { perPort[$0] > 0 ? ports[$0].link.gbps / Double(perPort[$0]) : 0 }
        if let upstream = upstreamGBps {
            let demand = ports.indices.reduce(0.0) { $0 + (perPort[$1] > 0 ? ports[$1].link.gbps : 0) }
            if demand > upstream {
                // Max-min fair water-filling: ports whose per-transfer cap is below the
                // equal share keep it; the rest split what is left equally.
                var left = upstream
                var transfers = flows.count
                for port in ports.indices.filter({ perPort[$0] > 0 }).sorted(by: { portRate[$0] < portRate[$1] }) {
                    let share = left / Double(transfers)
                    if portRate[port] > share { portRate[port] = share }
                    left -= portRate[port] * Double(perPort[port])
                    transfers -= perPort[port]
                }
            }
        }
        for id in flows { reschedule(id, rate: portRate[copies[Int(id)].port], now: now, queue: &queue) }
    }

    /// Gives transfer `id` its new rate and schedules its end; the old end event goes stale.
    private mutating func reschedule(_ id: Int32, rate: Double, now: Nanoseconds, queue: inout EventQueue) {
        guard rate != copies[Int(id)].rate else { return }
        copies[Int(id)].rate = rate
        copies[Int(id)].epoch &+= 1
        let finish = now + Units.roundUp(copies[Int(id)].pieceRemaining / rate)
        queue.schedule(at: finish, phase: .copy, payload: id, stamp: copies[Int(id)].epoch)
    }
}
