/// When a miss takes its place in the expert cache.
public enum CacheAdmission: String, Sendable, CaseIterable {
    /// moesim's default: before each insertion the rule evicts until the expert fits; the
    /// layer's own experts are locked, and a miss that finds no room streams through a staging
    /// buffer instead. The cache never exceeds its budget.
    case hardCap = "hard-cap"
    /// All of a layer batch's misses are admitted, then the rule evicts once after the batch,
    /// never the batch's own experts: the cache runs over its budget while one batch alone
    /// exceeds it. This is the llama.cpp-based engine that recorded the BigMoeOnEdge route CSVs
    /// (github.com/Helldez/BigMoeOnEdge, core/src/moe/expert_stream_source.cpp,
    /// `ExpertStreamSource::load_layer`: stage every routed expert of the layer, read the batch,
    /// then "evict cold entries to budget" from the LRU tail, never the current batch's).
    case afterBatch = "after-batch"
}
