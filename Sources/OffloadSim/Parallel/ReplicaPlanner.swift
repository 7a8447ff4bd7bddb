/// Chooses, per layer, which experts to copy to which GPUs before a step, from the load
/// predicted for the step (`expert-parallel-replication`: the replication idea of arXiv
/// 2605.11537 applied across expert-parallel GPUs, not that paper's single-GPU system): while the busiest
/// GPU's predicted load exceeds the mean by more than the threshold, the expert giving it
/// the most work gets one more holder, the least-loaded GPU with a free slot, and its
/// tokens are split evenly among its holders. Greedy; O(G × slots × (E + G)) per layer.
struct ReplicaPlanner {
    let gpus: Int
    let slots: Int
    let threshold: Double

    /// Extra holders per expert (beyond its home GPU `e mod G`) for predicted `load`.
    func plan(load: [Int]) -> [[Int]] {
        let experts = load.count
        var extra = Array(repeating: [Int](), count: experts)
        var gpuLoad = Array(repeating: 0.0, count: gpus)
        for e in 0..<experts { gpuLoad[e % gpus] += Double(load[e]) }
        let mean = gpuLoad.reduce(0, +) / Double(gpus)
        guard mean > 0 else { return extra }
        var free = Array(repeating: slots, count: gpus)
        func holders(_ e: Int) -> [Int] { [e % gpus] + extra[e] }
        for _ in 0..<(gpus * slots) {
            let busiest = gpuLoad.indices.max { gpuLoad[$0] < gpuLoad[$1] }!
            guard gpuLoad[busiest] > (1 + threshold) * mean else { break }
            // The expert giving the busiest GPU the most work that some free GPU does not hold yet.
            var best: (expert: Int, share: Double, target: Int)?
            for e in 0..<experts where load[e] > 0 && holders(e).contains(busiest) {
                let share = Double(load[e]) / Double(holders(e).count)
                guard best == nil || share > best!.share else { continue }
                let candidates = (0..<gpus).filter { free[$0] > 0 && !holders(e).contains($0) }
                guard let target = candidates.min(by: { gpuLoad[$0] < gpuLoad[$1] }) else { continue }
                best = (e, share, target)
            }
            guard let (expert, share, target) = best else { break }
            let count = Double(holders(expert).count)
            let newShare = Double(load[expert]) / (count + 1)
            // Stop when the copy would not lower the busiest GPU's load below where it is.
            guard gpuLoad[target] + newShare < gpuLoad[busiest] else { break }
            for holder in holders(expert) { gpuLoad[holder] -= share - newShare }
            extra[expert].append(target)
            gpuLoad[target] += newShare
            free[target] -= 1
        }
        return extra
    }
}
