import Foundation
import TraceStore

/// The sweep notebook (`moesim export notebook`): a Jupyter notebook that loads a results
/// database with sqlite3 and pandas and draws the charts of ``HTMLReport`` with matplotlib,
/// taking the same slices (so the two agree point for point), plus hit rate per layer from
/// the `layers` table. Each plot's title says which trace (real or synthetic), hardware
/// profile and predictors it shows; the notebook keeps every drawn series in `charts`
/// (chart id → series name → [(x, y)]) for further analysis.
public struct SweepNotebook: Sendable {
    /// The notebook.
    public let notebook: JupyterNotebook

    /// Builds the notebook for `rows` and `meta` read from a results database that the
    /// notebook will open at `databasePath` (relative paths are taken from the notebook's
    /// folder, as Jupyter and nbconvert start kernels there).
    public init(rows: [ResultRow], meta: [String: String], databasePath: String) {
        func ordered(_ values: [String]) -> [String] {
            var seen = Set<String>()
            return values.filter { seen.insert($0).inserted }
        }
        let traces = ordered(rows.map { "`\(URL(fileURLWithPath: $0.trace).lastPathComponent)` (\($0.traceKind))" })
        let hardware = ordered(rows.map(\.hardware))
        let predictors = ordered(rows.map(\.predictor))
        let name = meta["spec_name"] ?? "?"
        let intro = """
            # moesim sweep: \(name)

            Exported by `moesim export notebook` (moesim \(MoesimVersion.current)) from the results database \
            `\(databasePath)`, which held \(rows.count) of the spec's \(meta["points_total"] ?? "?") points \
            (written by moesim \(meta["created_by"] ?? "?"), results schema \(meta["schema_version"] ?? "?")).

            - **Traces:** \(traces.joined(separator: ", "))
            - **Hardware:** \(hardware.joined(separator: "; "))
            - **Predictors:** \(predictors.joined(separator: ", "))

            Run all cells to redraw the plots from the database. Each plot mirrors one chart of \
            `moesim report` and takes the same slice of the sweep; its title says which trace, \
            hardware profile and predictors it shows and which values it holds fixed. Needs pandas \
            and matplotlib (`pip install -r notebooks-export/requirements.txt` in the moesim repository).
            """
        notebook = JupyterNotebook(cells: [
            .init(id: "about", kind: .markdown, source: intro),
            .init(id: "load", kind: .code, source: Self.load(databasePath: databasePath)),
            .init(id: "slices", kind: .code, source: Self.slices),
            .init(id: "tpot-vs-bus-about", kind: .markdown, source: """
                ## TPOT against host-to-device bandwidth
                Time per output token for each policy as the bus gets faster, at the largest swept cache with LRU-style \
                eviction (Belady points excluded).
                """),
            .init(id: "tpot-vs-bus", kind: .code, source: Self.tpotVersusBus),
            .init(id: "hit-rate-vs-cache-about", kind: .markdown, source: """
                ## Expert-cache hit rate against cache size
                At the fastest swept bus; the dashed line is the first policy under Belady's optimal eviction, \
                an upper bound for any online eviction rule on this trace.
                """),
            .init(id: "hit-rate-vs-cache", kind: .code, source: Self.hitRateVersusCache),
            .init(id: "stall-compute-about", kind: .markdown, source: """
                ## Where a token's time goes, per policy
                TPOT split into time the GPU waits for expert copies (stall) and time it computes, at the largest \
                cache and fastest bus.
                """),
            .init(id: "stall-compute", kind: .code, source: Self.stallCompute),
            .init(id: "fidelity-vs-tpot-about", kind: .markdown, source: """
                ## Routing fidelity against TPOT, speculative policies
                Fidelity is the share of the router's gate weight computed with the experts it chose; speculative \
                policies trade it for speed. Every swept point of those policies.
                """),
            .init(id: "fidelity-vs-tpot", kind: .code, source: Self.fidelityVersusTPOT),
            .init(id: "layer-hit-rate-about", kind: .markdown, source: """
                ## Hit rate per MoE layer
                From the `layers` table, at the largest cache and fastest bus with LRU-style eviction.
                """),
            .init(id: "layer-hit-rate", kind: .code, source: Self.layerHitRate),
        ])
    }

    /// Reads the results database at `path` and builds its notebook; `databasePath` is how the
    /// notebook will name it.
    ///
    /// - Throws: ``TraceStoreError`` naming the file when it is not a moesim results database.
    public static func read(from path: String, databasePath: String) throws -> SweepNotebook {
        let rows = try ResultRow.read(from: path)
        let meta = try ResultsDatabase.meta(try SQLiteDatabase(path: path, mode: .readOnly), path: path)
        return SweepNotebook(rows: rows, meta: meta, databasePath: databasePath)
    }

    /// `database` as a path from `folder`: relative when both lie under one root (`../` as
    /// needed), so that the notebook and its database can move together.
    public static func path(of database: String, from folder: String) -> String {
        let target = URL(fileURLWithPath: database).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: folder, isDirectory: true).standardizedFileURL.pathComponents
        let common = zip(target, base).prefix { $0 == $1 }.count
        guard common > 1 else { return URL(fileURLWithPath: database).standardizedFileURL.path }
        return (Array(repeating: "..", count: base.count - common) + target[common...]).joined(separator: "/")
    }

    private static func load(databasePath: String) -> String {
        #"""
        import sqlite3
        import textwrap
        from contextlib import closing
        from pathlib import Path

        import matplotlib.pyplot as plt
        import pandas as pd

        # Relative to this notebook's folder (where Jupyter and nbconvert start the kernel).
        DATABASE = Path(\#(JupyterNotebook.quoted(databasePath)))
        if not DATABASE.exists():
            raise FileNotFoundError(f"{DATABASE.resolve()} is missing: rerun `moesim sweep SPEC.toml -o {DATABASE}` "
                                    "or edit DATABASE to point at the results database")
        with closing(sqlite3.connect(DATABASE.resolve().as_uri() + "?mode=ro", uri=True)) as connection:
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != "moesim-results":
                raise ValueError(f"{DATABASE} is not a moesim results database (no format=moesim-results in its meta table)")
            points = pd.read_sql_query("SELECT * FROM points ORDER BY point_index", connection)
            layers = pd.read_sql_query("SELECT * FROM layers ORDER BY point_hash, layer", connection)

        print(f"{len(points)} of {meta['points_total']} points of the sweep '{meta['spec_name']}' "
              f"(results schema {meta['schema_version']}, written by moesim {meta['created_by']})")
        points[["policy", "predictor", "eviction", "p_bus_gbps", "cache_bytes", "tpot_ms", "stall_share", "hit_rate", "fidelity"]].head(10)
        """#
    }

    private static let slices = #"""
        # The slices `moesim report` takes: LRU-style points (Belady is the bound, not a policy choice),
        # the largest swept cache and the fastest swept bus.
        PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]  # Okabe-Ito

        def ordered(values):
            return list(dict.fromkeys(values))

        def number(value):
            return str(int(value)) if value == round(value) else f"{value:.1f}"

        def cache_label(nbytes):
            return "no cache" if nbytes == 0 else f"cache {int(nbytes) // 2**20} MiB"

        def context(rows):
            """Which traces (real/synthetic), hardware profiles and predictors `rows` assumed."""
            traces = ordered(f"{Path(t).name} ({k})" for t, k in zip(rows.trace_path, rows.trace_kind))
            hardware = ordered(h.split(" (")[0] for h in rows.hardware)
            predictors = [p for p in ordered(rows.predictor) if p != "none"] or ["none"]
            return f"trace {', '.join(traces)} · hardware {', '.join(hardware)} · predictor {', '.join(predictors)}"

        def titled(ax, title, subtitle):
            ax.set_title(title + "\n" + "\n".join(textwrap.wrap(subtitle, 95)), fontsize=10, loc="left")

        def finish(ax, xlabel, ylabel, grid=True):
            """Axis labels, a light grid and the legend outside the plot, then draw."""
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            if grid:
                ax.grid(alpha=0.3)
            ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
            plt.show()

        charts = {}  # chart id -> series name -> [(x, y)], as drawn

        policies = ordered(points.policy)
        lru = points[points.eviction != "belady"]
        largest_cache = int(points.cache_bytes.max())
        fastest_bus = None if points.p_bus_gbps.isna().all() else float(points.p_bus_gbps.max())
        at_fastest_bus = points if fastest_bus is None else points[points.p_bus_gbps == fastest_bus]
        bus_label = "" if fastest_bus is None else f" · bus {number(fastest_bus)} GB/s"
        print(f"policies: {', '.join(policies)}; largest cache: {cache_label(largest_cache)}; "
              f"fastest bus {'not swept' if fastest_bus is None else number(fastest_bus) + ' GB/s'}")
        """#

    private static let tpotVersusBus = #"""
        rows = lru[lru.p_bus_gbps.notna() & (lru.cache_bytes == largest_cache)]
        if rows.empty:
            print("The sweep holds the bus bandwidth fixed: no chart.")
        else:
            fig, ax = plt.subplots(figsize=(9, 5))
            charts["tpot-vs-bus"] = {}
            for policy in policies:
                series = rows[rows.policy == policy].sort_values("p_bus_gbps", kind="stable")
                if series.empty:
                    continue
                colour = PALETTE[len(charts["tpot-vs-bus"]) % len(PALETTE)]
                charts["tpot-vs-bus"][policy] = list(zip(series.p_bus_gbps, series.tpot_ms))
                ax.plot(series.p_bus_gbps, series.tpot_ms, marker="o", color=colour, label=policy)
            titled(ax, "TPOT against host-to-device bandwidth", f"{context(rows)} · {cache_label(largest_cache)}, LRU")
            ax.set_ylim(bottom=0)
            finish(ax, "bus bandwidth (GB/s)", "TPOT (ms)")
        """#

    private static let hitRateVersusCache = #"""
        rows = at_fastest_bus
        if rows.cache_bytes.nunique() < 2:
            print("The sweep holds the cache size fixed: no chart.")
        else:
            fig, ax = plt.subplots(figsize=(9, 5))
            charts["hit-rate-vs-cache"] = {}
            for policy in policies:
                series = rows[(rows.policy == policy) & (rows.eviction != "belady")].sort_values("cache_bytes", kind="stable")
                if series.empty:
                    continue
                mib, hit = series.cache_bytes / 2**20, series.hit_rate * 100
                colour = PALETTE[len(charts["hit-rate-vs-cache"]) % len(PALETTE)]
                charts["hit-rate-vs-cache"][policy] = list(zip(mib, hit))
                ax.plot(mib, hit, marker="o", color=colour, label=policy)
            first = policies[0]
            bound = rows[(rows.policy == first) & ((rows.eviction == "belady") | (rows.cache_bytes == 0))].sort_values("cache_bytes", kind="stable")
            if (bound.eviction == "belady").any():
                name = f"Belady bound ({first})"
                mib, hit = bound.cache_bytes / 2**20, bound.hit_rate * 100
                colour = PALETTE[len(charts["hit-rate-vs-cache"]) % len(PALETTE)]
                charts["hit-rate-vs-cache"][name] = list(zip(mib, hit))
                ax.plot(mib, hit, linestyle="--", marker="o", color=colour, label=name)
            titled(ax, "Expert-cache hit rate against cache size", context(rows) + bus_label)
            ax.set_ylim(0, 100)
            finish(ax, "cache size (MiB)", "hit rate (%)")
        """#

    private static let stallCompute = #"""
        sliced = lru[lru.cache_bytes == largest_cache]
        if fastest_bus is not None:
            sliced = sliced[sliced.p_bus_gbps == fastest_bus]
        if sliced.empty:
            print("No LRU-style points at the largest cache: no chart.")
        else:
            # The first point of each policy, as the report takes, in policy order.
            rows = sliced.drop_duplicates("policy").set_index("policy")
            rows = rows.loc[[p for p in policies if p in rows.index]]
            stall = rows.tpot_ms * rows.stall_share
            compute = rows.tpot_ms * (1 - rows.stall_share)
            charts["stall-compute"] = {
                "stall (waiting for copies)": list(zip(range(len(rows)), stall)),
                "compute": list(zip(range(len(rows)), compute)),
            }
            fig, ax = plt.subplots(figsize=(9, 5))
            ax.bar(rows.index, stall, color=PALETTE[0], label="stall (waiting for copies)")
            ax.bar(rows.index, compute, bottom=stall, color=PALETTE[1], label="compute")
            titled(ax, "Where a token's time goes, per policy", f"{context(sliced)} · {cache_label(largest_cache)}, LRU{bus_label}")
            plt.setp(ax.get_xticklabels(), rotation=15, ha="right")
            finish(ax, "policy", "time per token (ms)", grid=False)
        """#

    private static let fidelityVersusTPOT = #"""
        rows = points[(points.fidelity < 1) | points.policy.str.contains("specul")]
        if rows.empty:
            print("No speculative policy in the sweep: no chart.")
        else:
            fig, ax = plt.subplots(figsize=(9, 5))
            charts["fidelity-vs-tpot"] = {}
            for index, policy in enumerate(ordered(rows.policy)):
                series = rows[rows.policy == policy]
                charts["fidelity-vs-tpot"][policy] = list(zip(series.tpot_ms, series.fidelity))
                ax.scatter(series.tpot_ms, series.fidelity, color=PALETTE[index % len(PALETTE)], label=policy)
            titled(ax, "Routing fidelity against TPOT, speculative policies", f"{context(rows)} · every swept point")
            ax.set_ylim(top=1.02)
            finish(ax, "TPOT (ms)", "fidelity (share of gate weight computed exactly)")
        """#

    private static let layerHitRate = #"""
        rows = lru[(lru.cache_bytes == largest_cache) & (lru.cache_bytes > 0)]
        if fastest_bus is not None:
            rows = rows[rows.p_bus_gbps == fastest_bus]
        per_layer = layers.merge(rows.drop_duplicates("policy")[["point_hash", "policy"]], on="point_hash")
        if per_layer.empty:
            print("No cached LRU-style points with per-layer rows: no chart.")
        else:
            fig, ax = plt.subplots(figsize=(9, 5))
            charts["layer-hit-rate"] = {}
            for index, policy in enumerate(p for p in policies if p in set(per_layer.policy)):
                series = per_layer[per_layer.policy == policy].sort_values("layer")
                charts["layer-hit-rate"][policy] = list(zip(series.layer, series.hit_rate * 100))
                ax.plot(series.layer, series.hit_rate * 100, marker=".", color=PALETTE[index % len(PALETTE)], label=policy)
            titled(ax, "Expert-cache hit rate per MoE layer", f"{context(rows)} · {cache_label(largest_cache)}, LRU{bus_label}")
            ax.set_ylim(0, 100)
            finish(ax, "MoE layer", "hit rate (%)")
        """#
}
