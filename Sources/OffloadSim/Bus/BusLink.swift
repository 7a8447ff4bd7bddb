/// One GPU's host-to-device link as the bus model sees it.
public struct BusLink: Sendable, Equatable {
    /// Sustained host-to-device bandwidth of pinned copies, GB/s (10^9 bytes/s = bytes/ns).
    public var gbps: Double
    /// Fixed cost of each copy (or each chunk of a chunked copy) before bytes move, ns:
    /// the driver call and DMA set-up.
    public var latencyNs: Nanoseconds
    /// Copies that may be in flight at once; concurrent copies share `gbps` fairly.
    public var copyEngines: Int
    /// When positive, prefetches move in chunks of this many bytes, each paying `latencyNs`,
    /// so that a demand copy can take the engine from a prefetch at a chunk boundary
    /// (demand copies always move whole). 0: whole copies.
    public var chunkBytes: Int
    /// Measured time of one copy against its size in bytes (a calibrated profile's copy
    /// table). When set and copies run one at a time on one engine, a copy (or chunk) takes
    /// the table's time for its size instead of `latencyNs + bytes / gbps`: on real hosts
    /// mid-sized copies can run slower than the two-number fit says.
    public var measuredTimes: CalibrationTable?

    /// Creates a link description.
    public init(gbps: Double, latencyNs: Nanoseconds, copyEngines: Int = 1, chunkBytes: Int = 0, measuredTimes: CalibrationTable? = nil) {
        self.gbps = gbps
        self.latencyNs = latencyNs
        self.copyEngines = copyEngines
        self.chunkBytes = chunkBytes
        self.measuredTimes = measuredTimes
    }
}

/// Copy priority classes: a demand copy (the compute stream waits for it) always starts
/// before a queued prefetch; within a class copies start in submission order.
public enum CopyPriority: UInt8, Sendable {
    /// Needed by the layer being computed.
    case demand = 0
    /// Speculative, for a later layer or step.
    case prefetch = 1
}

/// A finished copy, as ``PCIeBus/handle(_:now:queue:)`` reports it.
public struct CopyCompletion: Sendable, Equatable {
    /// The bus's id for the copy (free for reuse after this).
    public var id: Int32
    /// The caller's tag given at submission.
    public var tag: Int32
    /// Bytes copied.
    public var bytes: Int
    /// Its class when it finished (a promoted prefetch finishes as demand).
    public var priority: CopyPriority
    /// The GPU port it used.
    public var port: Int
    /// When its first byte's latency began, ns.
    public var startedAt: Nanoseconds
    /// When its last byte arrived, ns.
    public var finishedAt: Nanoseconds
}

/// One piece of a copy that landed (``PCIeBus/recordsPieces``): a copy moves as one piece per
/// copy call the engine makes (a weight tensor) and, for a chunked prefetch, one per chunk, each
/// paying the link's latency; a demand copy may take the engine between a prefetch's chunks.
public struct CopyPiece: Sendable, Equatable {
    /// The bus's id for the copy.
    public var id: Int32
    /// The caller's tag given at submission.
    public var tag: Int32
    /// Where in the copy the piece begins, bytes.
    public var offset: Int
    /// The piece's bytes.
    public var bytes: Int
    /// When it took the engine (its latency included) and when its last byte landed, ns.
    public var startedAt: Nanoseconds
    public var finishedAt: Nanoseconds
}
