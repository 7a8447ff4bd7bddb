/// Which resident expert the ``ExpertCache`` gives up when it needs room.
public enum EvictionPolicy: String, Sendable, CaseIterable {
    /// Least recently used.
    case lru
    /// Least frequently used since insertion ("in-cache" LFU: the count restarts at each
    /// insertion), ties by least recent use.
    case lfu
    /// Least frequently used over the whole run ("perfect" LFU: a key's count survives its
    /// eviction; "Perfect-LFU" against "In-Cache-LFU" in Breslau et al., INFOCOM 1999),
    /// ties by least recent use.
    case lfuPerfect = "lfu-perfect"
    /// First in, first out; hits do not refresh.
    case fifo
    /// S3-FIFO: a small probationary FIFO, a main FIFO with lazy reinsertion and a ghost
    /// list (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023), with
    /// libCacheSim's parameters (``S3FIFOQueues``).
    case s3fifo
    /// ARC, adaptive replacement between recency and frequency lists with ghosts (Megiddo &
    /// Modha, FAST 2003; ``ARCLists``).
    case arc
    /// A victim drawn uniformly from the resident experts by the run's seeded random stream.
    case random
    /// Belady's offline optimum (farthest next use; Belady, IBM Systems Journal 1966), from
    /// a pre-pass over the trace. Optimal for hit count with equal-sized experts and demand fetching.
    case belady
    /// A static hot set, chosen from the trace's per-expert use counts to fill the budget,
    /// loaded before the run starts and pinned throughout; other experts stream through the
    /// staging buffers.
    case pinned

    /// One line for `--help` and reports.
    public var summary: String {
        switch self {
        case .lru: "least recently used"
        case .lfu: "least frequently used since insertion (ties: least recent)"
        case .lfuPerfect: "least frequently used over the whole run, counts kept across evictions (ties: least recent)"
        case .arc: "ARC (FAST 2003): recency and frequency lists with ghosts, self-tuning"
        case .random: "uniformly random victim (seeded)"
        case .fifo: "first in, first out"
        case .s3fifo: "S3-FIFO (SOSP 2023): small + main FIFO with ghost list"
        case .belady: "Belady's offline optimum (needs the future: a pre-pass over the trace)"
        case .pinned: "static hot set from the trace's use counts, never evicted"
        }
    }

    /// Whether the policy needs a pre-pass over the trace before the run.
    public var needsPrepass: Bool { self == .belady || self == .pinned }
}
