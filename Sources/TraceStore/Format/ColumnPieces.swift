/// A chunk's ids or gate weights, layer-major (token t's k values at layer l at
/// `(l × tokens + t) × k` of the column), given as pieces where they already lie instead of
/// gathered into one array first: a piece is `count` consecutive values of one layer's row,
/// starting at value `at` of that row (a whole number of tokens: `at` and `count` are
/// multiples of k). The pieces of a chunk cover every value once, in any order.
///
/// The writer encodes a chunk straight from the reference tokens a synthesiser copies and
/// from the tokens it staged by value, so a copied token is read once and written once as
/// payload bytes (gathering it into 2-byte columns first, then encoding those, moved every
/// value three more times; Benchmarks/RESULTS.md, thirteenth session).
struct ColumnPieces {
    /// Values per layer row (tokens × k).
    let rowLength: Int
    /// Calls `visit(layer, values, count, at)` for each piece; `values` is valid only inside.
    let forEach: (_ visit: (_ layer: Int, _ values: UnsafePointer<UInt16>, _ count: Int, _ at: Int) -> Void) -> Void

    /// Pieces as described above.
    init(rowLength: Int, forEach: @escaping (_ visit: (_ layer: Int, _ values: UnsafePointer<UInt16>, _ count: Int, _ at: Int) -> Void) -> Void) {
        self.rowLength = rowLength
        self.forEach = forEach
    }

    /// One piece: the whole of `values` (already a chunk's layer-major column).
    init(_ values: [UInt16]) {
        rowLength = values.count
        forEach = { visit in
            values.withUnsafeBufferPointer { values in
                if let base = values.baseAddress, values.count > 0 { visit(0, base, values.count, 0) }
            }
        }
    }
}
