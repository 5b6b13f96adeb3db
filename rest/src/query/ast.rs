//! What a request's query string and headers say, as typed values: the grammar's output and
//! the planner's input. Nothing here has been checked against the schema cache yet; names are
//! the client's spelling, already unquoted.
//!
//! Paths: PostgREST lets `select`, filters, `or`/`and`, `order`, `limit` and `offset` reach an
//! embedded resource by prefixing the key with the embed's name or alias, `children.order=id`.
//! [`EmbedPath`] is that prefix: empty for the root table, `["children"]`,
//! `["children", "toys"]` deeper.

/// The embed prefix of a query key (empty for the root resource).
pub type EmbedPath = Vec<String>;

/// A column, possibly with a JSON path: `data->settings->>theme`, `tags->0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub json_path: Vec<JsonOp>,
}

impl Field {
    /// A plain column, no JSON path.
    pub fn column(name: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            json_path: Vec::new(),
        }
    }
}

/// One JSON step: `->` keeps JSON, `->>` gives text (PostgreSQL's operators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonOp {
    Arrow(JsonKey),
    DoubleArrow(JsonKey),
}

/// An object key, or an array index when the step is an integer (`->0`, `->-1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonKey {
    Key(String),
    Index(i64),
}

/// One item of `select=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItem {
    /// `*`: every column of the resource.
    Star,
    /// `col`, `alias:col`, `col::text`, `alias:data->>k::int`. Without an alias, a JSON path is
    /// named after its last key (PostgREST's rule), a plain column after itself.
    Column {
        field: Field,
        alias: Option<String>,
        cast: Option<String>,
    },
    /// `rel(...)`, `alias:rel(...)`, `rel!hint(...)`, `rel!inner(...)`, `...rel(...)`.
    Embed(Embed),
    /// `count()`, `amount.sum()`, `total:price::numeric.avg()::int`: an aggregate
    /// (PostgREST answers PGRST123 unless `db-aggregates-enabled`). Without a field it is
    /// `count()` over the rows; `cast` applies to the column before aggregating,
    /// `aggregate_cast` to the result.
    Aggregate {
        function: AggregateFunction,
        field: Option<Field>,
        cast: Option<String>,
        aggregate_cast: Option<String>,
        alias: Option<String>,
    },
}

/// The aggregates PostgREST's `select` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    Sum,
    Avg,
    Count,
    Max,
    Min,
}

/// A resource embedded over a foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    /// The table (or view) named in the select, resolved over a foreign key.
    pub relation: String,
    pub alias: Option<String>,
    /// `rel!fk_name(...)` or `rel!column(...)`: which foreign key when several could apply.
    pub hint: Option<String>,
    /// `!inner` / `!left`; None is PostgREST's default (left).
    pub join: Option<JoinType>,
    /// `...rel(cols)`: the embed's columns are spread into the parent object.
    pub spread: bool,
    /// Its own select list; `rel()` is an empty list (embedded for filtering only).
    pub select: Vec<SelectItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinType {
    Inner,
    Left,
}

/// `col=op.value` or `rel.col=not.op.value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub path: EmbedPath,
    pub field: Field,
    pub condition: Condition,
}

/// An operation, possibly negated with `not.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub negated: bool,
    pub operation: Operation,
}

/// What a filter compares. Values are the client's text, unquoted and URL-decoded; they reach
/// SQL only as bound parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `eq.v`, `gt.v`, `like.a*`... For `like`/`ilike` the grammar has already turned `*`
    /// into `%`. For `cs`, `cd`, `ov`, `sl`, `sr`, `nxr`, `nxl`, `adj` the value is kept as
    /// written (`{1,2}`, `[1,5)`, a JSON document), since PostgreSQL parses it for the column's
    /// type.
    Compare { op: CompareOp, value: String },
    /// `eq(any).{a,b}`, `like(all).{a*,*b}`: only on eq, like, ilike, gt, gte, lt, lte, match,
    /// imatch.
    Quantified {
        op: CompareOp,
        quantifier: Quantifier,
        values: Vec<String>,
    },
    /// `in.(a,"b,c")`.
    In(Vec<String>),
    /// `is.null`, `is.not_null`, `is.true`, `is.false`, `is.unknown`.
    Is(IsValue),
    /// `fts.word`, `plfts(english).two words`, `phfts`, `wfts`.
    Fts {
        op: FtsOp,
        config: Option<String>,
        value: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    Ilike,
    /// `match`: POSIX `~`.
    Match,
    /// `imatch`: `~*`.
    Imatch,
    /// `isdistinct`: IS DISTINCT FROM.
    IsDistinct,
    /// `cs`: `@>`.
    Cs,
    /// `cd`: `<@`.
    Cd,
    /// `ov`: `&&`.
    Ov,
    /// `sl`: `<<`.
    Sl,
    /// `sr`: `>>`.
    Sr,
    /// `nxr`: `&<`.
    Nxr,
    /// `nxl`: `&>`.
    Nxl,
    /// `adj`: `-|-`.
    Adj,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsValue {
    Null,
    NotNull,
    True,
    False,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsOp {
    /// `fts`: to_tsquery.
    Fts,
    /// `plfts`: plainto_tsquery.
    Plain,
    /// `phfts`: phraseto_tsquery.
    Phrase,
    /// `wfts`: websearch_to_tsquery.
    Websearch,
}

/// `or=(...)`, `and=(...)`, `not.or=(...)`, `rel.or=(...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicFilter {
    pub path: EmbedPath,
    pub tree: LogicTree,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogicTree {
    /// `and(...)`, `or(...)`, `not.and(...)`.
    Expr {
        negated: bool,
        op: LogicOp,
        children: Vec<LogicTree>,
    },
    /// `col.op.value` or `col.not.op.value` inside a tree.
    Condition { field: Field, condition: Condition },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOp {
    And,
    Or,
}

/// `order=a.desc.nullslast,b` or `rel.order=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub path: EmbedPath,
    pub terms: Vec<OrderTerm>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    /// `order=clients(name).desc`: a column of the to-one embed `clients` (None: the
    /// resource's own column).
    pub relation: Option<String>,
    pub field: Field,
    pub direction: Option<Direction>,
    pub nulls: Option<Nulls>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    First,
    Last,
}

/// `limit`/`offset` for one path (the root's are intersected with the `Range` header later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRange {
    pub path: EmbedPath,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
}

/// Where the request goes, which changes how keys are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A table or view.
    Relation,
    /// `GET`/`HEAD /rpc/f`: a key whose value does not start with an operator (or `not.`) is
    /// a function argument, not a filter.
    RpcRead,
    /// `POST /rpc/f`: arguments are in the body; every key is read as for a table.
    RpcWrite,
}

/// The whole query string, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParams {
    /// `[Star]` when `select` is absent.
    pub select: Vec<SelectItem>,
    /// Filters in query-string order (several are ANDed).
    pub filters: Vec<Filter>,
    pub logic: Vec<LogicFilter>,
    pub order: Vec<Order>,
    pub ranges: Vec<PageRange>,
    /// `columns="a","b"` (or unquoted `a,b`).
    pub columns: Option<Vec<String>>,
    /// `on_conflict=a,b`.
    pub on_conflict: Option<Vec<String>>,
    /// Function arguments of a `GET /rpc/f` (Target::RpcRead), in query order.
    pub rpc_args: Vec<(String, String)>,
    /// The query string re-encoded with keys sorted, as `Content-Location` shows it.
    pub canonical: String,
}

/// The request's `Prefer` headers (several headers and comma lists; the first of each kind
/// wins; whitespace around items is ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    pub resolution: Option<Resolution>,
    pub missing: Option<Missing>,
    pub returning: Option<Returning>,
    pub count: Option<Count>,
    pub handling: Option<Handling>,
    pub timezone: Option<String>,
    pub max_affected: Option<i64>,
    pub tx: Option<Tx>,
    /// Items that are none of the above, as written (an error only with `handling=strict`).
    pub invalid: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    MergeDuplicates,
    IgnoreDuplicates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Default,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returning {
    Minimal,
    HeadersOnly,
    Representation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exact,
    Planned,
    Estimated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    Lenient,
    Strict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tx {
    Commit,
    Rollback,
}

/// A `Range: N-M` / `N-` request header: rows `first..=last` (last open when None).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeHeader {
    pub first: u64,
    pub last: Option<u64>,
}

/// One media type the client accepts, from `Accept` (q-values applied: best first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`, `*/*` (and no Accept at all). PostgREST does not read
    /// `application/*` as JSON: it is a media type of its own, which nothing produces.
    Json,
    /// `application/vnd.pgrst.object+json` (`.single()`), `nulls=stripped` or not.
    SingleObject { strip_nulls: bool },
    /// `application/vnd.pgrst.array+json`, `nulls=stripped` or not. Without `nulls=stripped`
    /// PostgREST treats it as `application/json` (and answers with that Content-Type).
    Array { strip_nulls: bool },
    /// `text/csv`.
    Csv,
    /// `application/geo+json`.
    GeoJson,
    /// `application/vnd.pgrst.plan+text` / `+json`.
    Plan,
    /// `application/openapi+json`.
    OpenApi,
    /// `text/plain`, `text/xml`, `application/octet-stream` (RPC scalar results only).
    Raw(RawMedia),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawMedia {
    TextPlain,
    TextXml,
    OctetStream,
}
