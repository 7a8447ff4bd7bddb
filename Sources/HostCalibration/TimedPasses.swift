/// Runs `run` `count` times, timing each run with `clock` (ns) and calling `check` after each
/// timed run, outside its time; returns the runs' times in order. Interruptions only add time,
/// so the measurements keep the fastest. O(count) runs.
func timedPasses(_ count: Int, clock: () -> UInt64, run: () -> Void, check: () -> Void) -> [UInt64] {
    var times: [UInt64] = []
    for _ in 0..<count {
        let start = clock()
        run()
        let end = clock()
        check()
        times.append(end &- start)
    }
    return times
}
