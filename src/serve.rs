//! `lakemart serve`: the mart's tables over the PostgreSQL wire protocol, for
//! psql, DBeaver, BI tools and notebooks; read-only, with passwords and pii masking.
//!
//! ```text
//!  client ──pgwire──▶ PasswordStartup (users file: password, roles)
//!                        │ Grant { user, pii }
//!                        ▼
//!                     Service: parse → refuse anything but reads → SET lakemart.as_of_date
//!                        │ Catalog::session_for: bring the named tables to their latest
//!                        ▼ Delta version (or as of the date), pick the clear or masked session
//!                     datafusion-postgres DfSessionService: plan, run, encode rows
//! ```
//!
//! Built on `datafusion-postgres` (its DataFusion-backed handlers, `pg_catalog`,
//! SET/SHOW and transaction hooks) and `pgwire`; lakemart adds the password check,
//! the read-only guard, live tables and masking around them.

mod auth;
mod catalog;
pub mod mask;

use std::fmt::Debug;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use datafusion_postgres::pgwire::api::cancel::DefaultCancelHandler;
use datafusion_postgres::pgwire::api::portal::{Format, Portal};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag};
use datafusion_postgres::pgwire::api::stmt::{QueryParser, StoredStatement};
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionManager, ErrorHandler, PgWireServerHandlers, Type,
};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::tokio::process_socket;
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::datafusion::common::ToDFSchema;
use deltalake::datafusion::execution::context::SQLOptions;
use deltalake::datafusion::logical_expr::{EmptyRelation, LogicalPlan};
use deltalake::datafusion::sql::sqlparser::ast::{
    Expr, ObjectName, Query, Reset, ResetStatement, Set, SetExpr, Statement, Value, Visit, Visitor,
};
use futures::Sink;

pub use auth::{Grant, PII_ROLE, Users, hash_password};
use catalog::Catalog;

use crate::error::{Error, Result};
use crate::project::Project;
use crate::store::Lakehouse;

/// Where `lakemart serve` listens unless told otherwise: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:5433";
/// The session setting for time travel.
const AS_OF_SETTING: &str = "lakemart.as_of_date";

/// A parsed statement with its plan, as datafusion-postgres keeps it in its portals.
type PlannedStatement = (String, Option<(Statement, LogicalPlan)>);

/// How the server is set up: `--bind`/`--users`, else `[serve]` in lakemart.toml.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub users_file: PathBuf,
    pub users: Users,
}

impl ServeConfig {
    /// The settings from the command line, falling back on `[serve]` in lakemart.toml.
    pub fn resolve(project: &Project, bind: Option<&str>, users: Option<&Path>) -> Result<ServeConfig> {
        let bind_text = bind
            .map(str::to_string)
            .or_else(|| project.serve.bind.clone())
            .unwrap_or_else(|| DEFAULT_BIND.to_string());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            Error::Usage(format!(
                "--bind '{bind_text}' is not an address and port like {DEFAULT_BIND}"
            ))
        })?;
        let users_file = match (users, &project.serve.users) {
            (Some(path), _) => path.to_path_buf(),
            (None, Some(path)) => project.root.join(path),
            (None, None) => {
                return Err(Error::Usage(
                    "lakemart serve needs a users file: give it with --users FILE or as `users = \"FILE\"` under \
                     [serve] in lakemart.toml (see docs/analysts.md). Make password hashes with \
                     `lakemart serve --hash-password`; `allow_anonymous = true` in that file lets unlisted users \
                     in without a password, with pii masked"
                        .into(),
                ));
            }
        };
        let users = Users::load(&users_file)?;
        if users.is_empty() && !users.allow_anonymous {
            return Err(Error::config(
                &users_file,
                "lists no users and does not allow anonymous access, so nobody could connect",
            ));
        }
        Ok(ServeConfig {
            bind,
            users_file,
            users,
        })
    }
}

/// A bound server, ready to [`Server::run`].
pub struct Server {
    listener: tokio::net::TcpListener,
    handlers: Arc<Handlers>,
    tables: usize,
}

impl Server {
    /// Open every table and bind the listening socket.
    pub async fn bind(project: &Project, lakehouse: &Lakehouse, config: ServeConfig) -> Result<Server> {
        let catalog = Arc::new(Catalog::open(project, lakehouse).await?);
        let tables = catalog.built_tables().await;
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", config.bind)))?;
        let connections = Arc::new(ConnectionManager::new());
        let handlers = Arc::new(Handlers {
            service: Arc::new(Service::new(catalog)?),
            startup: Arc::new(auth::PasswordStartup::new(Arc::new(config.users), connections.clone())),
            cancel: Arc::new(DefaultCancelHandler::new(connections)),
        });
        Ok(Server {
            listener,
            handlers,
            tables,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .map_err(|e| Error::Internal(format!("listening socket has no address: {e}")))
    }

    /// How many of the project's tables exist in the lakehouse now.
    pub fn tables(&self) -> usize {
        self.tables
    }

    /// Serve connections until the process is stopped.
    pub async fn run(self) -> Result<()> {
        loop {
            let (socket, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            };
            let handlers = self.handlers.clone();
            tokio::spawn(async move {
                if let Err(e) = process_socket(socket, None, handlers).await {
                    tracing::debug!("connection from {peer} ended: {e}");
                }
            });
        }
    }
}

/// Read a password from standard input, one line, without echo on a terminal.
pub fn read_password() -> Result<String> {
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    let stty = |arg: &str| {
        let _ = std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status();
    };
    if terminal {
        stty("-echo");
    }
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    if terminal {
        stty("echo");
    }
    read.map_err(|e| Error::io("<stdin>", e))?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(Error::Usage("no password on standard input".into()));
    }
    Ok(password.to_string())
}

struct Handlers {
    service: Arc<Service>,
    startup: Arc<auth::PasswordStartup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.service.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.service.clone()
    }

    fn startup_handler(&self) -> Arc<impl datafusion_postgres::pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(LogErrors)
    }

    fn cancel_handler(&self) -> Arc<impl datafusion_postgres::pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }
}

struct LogErrors;

impl ErrorHandler for LogErrors {
    fn on_error<C>(&self, client: &C, error: &mut PgWireError)
    where
        C: ClientInfo,
    {
        let user = client.session_extensions().get::<Grant>().map(|g| g.user.clone());
        tracing::info!(user = user.as_deref().unwrap_or("-"), "error sent to client: {error}");
    }
}

/// The time-travel setting of a connection (`SET lakemart.as_of_date`).
#[derive(Debug, Clone, Copy)]
struct AsOf(Option<NaiveDate>);

/// Answers simple and extended queries: checks, then hands over to the session
/// of the connection's grant and point in time.
struct Service {
    catalog: Arc<Catalog>,
    sql_parser: datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser,
    parser: Arc<ServeParser>,
}

impl Service {
    fn new(catalog: Arc<Catalog>) -> Result<Service> {
        let parser = Arc::new(ServeParser {
            catalog: catalog.clone(),
            sql_parser: Default::default(),
            describer: datafusion_postgres::DfSessionService::new(Arc::new(
                deltalake::datafusion::prelude::SessionContext::new(),
            ))
            .query_parser(),
        });
        Ok(Service {
            catalog,
            sql_parser: Default::default(),
            parser,
        })
    }
}

fn grant_of(client: &(impl ClientInfo + ?Sized)) -> Grant {
    // Every admitted connection has a grant; without one, nothing is in clear.
    client.session_extensions().get::<Grant>().map_or_else(
        || Grant {
            user: String::new(),
            pii: false,
        },
        |g| (*g).clone(),
    )
}

fn as_of_of(client: &(impl ClientInfo + ?Sized)) -> Option<NaiveDate> {
    client.session_extensions().get::<AsOf>().and_then(|a| a.0)
}

fn user_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".into(), code.into(), message.into())))
}

fn internal(e: Error) -> PgWireError {
    let code = if e.exit_code() == 2 { "22023" } else { "XX000" };
    user_error(code, e.to_string())
}

#[async_trait]
impl SimpleQueryHandler for Service {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = self
            .sql_parser
            .parse(query)
            .map_err(|e| user_error("42601", e.to_string()))?;
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let single = statements.len() == 1;
        let mut responses = Vec::new();
        for statement in statements {
            let grant = grant_of(client);
            check_read_only(&statement, grant.pii)?;
            if let Some(response) = forget_statements(client, &statement) {
                responses.push(response);
                continue;
            }
            if let Some(response) = apply_setting(client, &statement)? {
                responses.push(response);
                continue;
            }
            let session = self
                .catalog
                .session_for(&statement, grant.pii, as_of_of(client))
                .await
                .map_err(internal)?;
            // datafusion-postgres parses again; one statement goes as the client wrote it.
            let sql = if single {
                query.to_string()
            } else {
                statement.to_string()
            };
            responses.extend(SimpleQueryHandler::do_query(session.service.as_ref(), client, &sql).await?);
        }
        Ok(responses)
    }
}

#[async_trait]
impl ExtendedQueryHandler for Service {
    type Statement = PlannedStatement;
    type QueryParser = ServeParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some((statement, plan)) = &portal.statement.statement.1 else {
            return Ok(Response::EmptyQuery);
        };
        if let Some(response) = forget_statements(client, statement) {
            return Ok(response);
        }
        if let Some(response) = apply_setting(client, statement)? {
            return Ok(response);
        }
        let as_of = as_of_of(client);
        // Brings the tables the plan reads to their current version before it runs,
        // so a statement prepared long ago still reads today's data.
        let session = self
            .catalog
            .session_for(statement, grant_of(client).pii, as_of)
            .await
            .map_err(internal)?;
        if catalog::planned_for(plan, as_of) {
            return ExtendedQueryHandler::do_query(session.service.as_ref(), client, portal, max_rows).await;
        }
        // Prepared for another business date than the connection's now: plan it again.
        let sql = &portal.statement.statement.0;
        let replanned = self
            .parser
            .parse_sql(client, sql, &portal.statement.parameter_types)
            .await?
            .ok_or_else(|| user_error("XX000", "the prepared statement became empty"))?;
        let stored = StoredStatement::new(
            portal.statement.id.clone(),
            replanned,
            portal.statement.parameter_types.clone(),
        );
        let mut again = Portal::new_cursor(portal.name.clone(), Arc::new(stored));
        again.parameter_format = portal.parameter_format.clone();
        again.parameters = portal.parameters.clone();
        again.result_column_format = portal.result_column_format.clone();
        ExtendedQueryHandler::do_query(session.service.as_ref(), client, &again, max_rows).await
    }
}

/// Plans prepared statements in the session of the connection, after the same
/// checks as simple queries, and checks the plan itself is a read.
pub(crate) struct ServeParser {
    catalog: Arc<Catalog>,
    sql_parser: datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser,
    /// Describes parameters and result columns of a planned statement (needs no tables).
    describer: Arc<datafusion_postgres::Parser>,
}

#[async_trait]
impl QueryParser for ServeParser {
    type Statement = PlannedStatement;

    async fn parse_sql<C>(&self, client: &C, sql: &str, types: &[Option<Type>]) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let statements = self
            .sql_parser
            .parse(sql)
            .map_err(|e| user_error("42601", e.to_string()))?;
        let statement = match statements.as_slice() {
            [] => return Ok(None),
            [one] => one,
            _ => {
                return Err(user_error(
                    "42601",
                    "cannot insert multiple commands into a prepared statement",
                ));
            }
        };
        let grant = grant_of(client);
        check_read_only(statement, grant.pii)?;
        if let Some(plan) = setting_plan(statement)? {
            return Ok(Some((sql.to_string(), Some((statement.clone(), plan)))));
        }
        let session = self
            .catalog
            .session_for(statement, grant.pii, as_of_of(client))
            .await
            .map_err(internal)?;
        let parsed = session.service.query_parser().parse_sql(client, sql, types).await?;
        if let Some((_, Some((_, plan)))) = &parsed {
            SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .verify_plan(plan)
                .map_err(|e| user_error("25006", read_only_message(&e.strip_backtrace())))?;
        }
        Ok(parsed)
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        self.describer.get_parameter_types(stmt)
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        self.describer.get_result_schema(stmt, column_format)
    }
}

fn read_only_message(what: &str) -> String {
    format!("lakemart serve is read-only: {what} is refused (tables are built by `lakemart run`)")
}

/// Refuse every statement that is not a read, and the few reads that would show
/// more than a masked user may see.
fn check_read_only(statement: &Statement, pii: bool) -> PgWireResult<()> {
    let refuse = |what: String| Err(user_error("25006", read_only_message(&what)));
    match statement {
        Statement::Query(_) => match first_write(statement) {
            Some(what) => refuse(what),
            None => Ok(()),
        },
        Statement::Explain {
            statement: inner,
            verbose,
            options,
            ..
        } => {
            if !matches!(inner.as_ref(), Statement::Query(_)) {
                return refuse(format!("EXPLAIN {}", kind(inner)));
            }
            if !pii && (*verbose || options.is_some()) {
                // Verbose plans print column statistics (minimum, maximum) of raw columns.
                return Err(user_error(
                    "42501",
                    "EXPLAIN VERBOSE and EXPLAIN (options) need the pii role: they can show values of pii columns",
                ));
            }
            check_read_only(inner, pii)
        }
        Statement::Declare { stmts } => {
            for d in stmts {
                if let Some(q) = &d.for_query
                    && let Some(what) = first_write(&Statement::Query(q.clone()))
                {
                    return refuse(what);
                }
            }
            Ok(())
        }
        Statement::Fetch { into: Some(_), .. } => refuse("FETCH INTO".into()),
        Statement::ExplainTable { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowSchemas { .. }
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. }
        | Statement::Deallocate { .. }
        | Statement::Discard { .. } => Ok(()),
        Statement::Set(set) => check_set(set),
        Statement::Reset(ResetStatement {
            reset: Reset::ConfigurationParameter(name),
        }) if is_as_of(name) => Ok(()),
        other => refuse(kind(other)),
    }
}

/// What SET may change: the connection's own settings, never the server's.
fn check_set(set: &Set) -> PgWireResult<()> {
    let names: Vec<&ObjectName> = match set {
        Set::SingleAssignment { variable, .. } => vec![variable],
        Set::MultipleAssignments { assignments } => assignments.iter().map(|a| &a.name).collect(),
        Set::ParenthesizedAssignments { variables, .. } => variables.iter().collect(),
        Set::SetRole { .. } | Set::SetSessionAuthorization(_) => {
            return Err(user_error(
                "42501",
                "roles come from the lakemart serve users file; log in as the user that has them",
            ));
        }
        _ => Vec::new(),
    };
    for name in names {
        let name = name.to_string().to_ascii_lowercase();
        if name.starts_with("datafusion.") {
            return Err(user_error(
                "42501",
                format!("{name} is a setting of the whole server and cannot be changed from a connection"),
            ));
        }
        if name.starts_with("lakemart.") && name != AS_OF_SETTING {
            return Err(user_error(
                "42704",
                format!("unrecognized configuration parameter \"{name}\" (lakemart has {AS_OF_SETTING})"),
            ));
        }
    }
    Ok(())
}

/// The first thing in a query that writes: a DML statement inside it, or SELECT … INTO.
fn first_write(statement: &Statement) -> Option<String> {
    struct Finder(Option<String>);
    impl Visitor for Finder {
        type Break = ();
        fn pre_visit_statement(&mut self, statement: &Statement) -> std::ops::ControlFlow<()> {
            if matches!(statement, Statement::Query(_)) {
                return std::ops::ControlFlow::Continue(());
            }
            self.0 = Some(kind(statement));
            std::ops::ControlFlow::Break(())
        }
        fn pre_visit_query(&mut self, query: &Query) -> std::ops::ControlFlow<()> {
            fn into(set: &SetExpr) -> bool {
                match set {
                    SetExpr::Select(s) => s.into.is_some(),
                    SetExpr::SetOperation { left, right, .. } => into(left) || into(right),
                    _ => false,
                }
            }
            if into(&query.body) {
                self.0 = Some("SELECT … INTO".into());
                return std::ops::ControlFlow::Break(());
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let mut finder = Finder(None);
    let _ = statement.visit(&mut finder);
    finder.0
}

/// The statement's kind in words: `INSERT`, `CREATE TABLE`, `COPY`.
fn kind(statement: &Statement) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text.split_whitespace().take(3).collect();
    let n = match words.first().map(|w| w.to_ascii_uppercase()) {
        Some(w) if ["CREATE", "DROP", "ALTER"].contains(&w.as_str()) => {
            if words.get(1).is_some_and(|w| w.eq_ignore_ascii_case("OR")) {
                1
            } else {
                2
            }
        }
        _ => 1,
    };
    words[..n.min(words.len())].join(" ").to_ascii_uppercase()
}

fn is_as_of(name: &ObjectName) -> bool {
    name.to_string().eq_ignore_ascii_case(AS_OF_SETTING)
}

/// `DEALLOCATE name` and `DISCARD ALL`, which clients and pools send to tidy a
/// connection (psycopg deallocates when its prepared-statement cache is full),
/// answered on the connection's own statement store: `None` for anything else.
fn forget_statements<C>(client: &mut C, statement: &Statement) -> Option<Response>
where
    C: ClientInfo + ClientPortalStore,
    C::PortalStore: PortalStore,
{
    match statement {
        Statement::Deallocate { name, .. } => {
            if !name.value.eq_ignore_ascii_case("all") {
                client.portal_store().rm_statement(&name.value);
            }
            Some(Response::Execution(Tag::new("DEALLOCATE")))
        }
        Statement::Discard { .. } => {
            client.portal_store().clear_portals();
            client.session_extensions().insert(AsOf(None));
            Some(Response::Execution(Tag::new("DISCARD ALL")))
        }
        _ => None,
    }
}

/// `SET`/`RESET`/`SHOW lakemart.as_of_date`, answered here: `None` for anything else.
fn apply_setting<C>(client: &mut C, statement: &Statement) -> PgWireResult<Option<Response>>
where
    C: ClientInfo + ?Sized,
{
    match statement {
        Statement::Set(Set::SingleAssignment { variable, values, .. }) if is_as_of(variable) => {
            let date = parse_as_of(values)?;
            client.session_extensions().insert(AsOf(date));
            Ok(Some(Response::Execution(Tag::new("SET"))))
        }
        Statement::Reset(ResetStatement {
            reset: Reset::ConfigurationParameter(name),
        }) if is_as_of(name) => {
            client.session_extensions().insert(AsOf(None));
            Ok(Some(Response::Execution(Tag::new("RESET"))))
        }
        Statement::ShowVariable { variable } if is_as_of(&ObjectName::from(variable.clone())) => {
            let value = as_of_of(client).map_or_else(|| "latest".to_string(), |d| d.to_string());
            let fields = Arc::new(vec![FieldInfo::new(
                AS_OF_SETTING.into(),
                None,
                None,
                Type::VARCHAR,
                FieldFormat::Text,
            )]);
            let mut encoder = DataRowEncoder::new(fields.clone());
            encoder.encode_field(&Some(value))?;
            let row = encoder.take_row();
            let rows = futures::stream::once(async move { Ok(row) });
            Ok(Some(Response::Query(QueryResponse::new(fields, rows))))
        }
        _ => Ok(None),
    }
}

/// The plan a prepared `SET`/`RESET`/`SHOW lakemart.as_of_date`, `DEALLOCATE` or
/// `DISCARD` describes itself with.
fn setting_plan(statement: &Statement) -> PgWireResult<Option<LogicalPlan>> {
    let fields = match statement {
        Statement::Set(Set::SingleAssignment { variable, values, .. }) if is_as_of(variable) => {
            parse_as_of(values)?;
            vec![]
        }
        Statement::Reset(ResetStatement {
            reset: Reset::ConfigurationParameter(name),
        }) if is_as_of(name) => vec![],
        Statement::Deallocate { .. } | Statement::Discard { .. } => vec![],
        Statement::ShowVariable { variable } if is_as_of(&ObjectName::from(variable.clone())) => {
            vec![Field::new(AS_OF_SETTING, DataType::Utf8, false)]
        }
        _ => return Ok(None),
    };
    let schema = Schema::new(fields)
        .to_dfschema_ref()
        .map_err(|e| user_error("XX000", e.to_string()))?;
    Ok(Some(LogicalPlan::EmptyRelation(EmptyRelation {
        produce_one_row: true,
        schema,
    })))
}

/// `'2024-06-30'` → that date; `'latest'`, `''` or `DEFAULT` → none.
fn parse_as_of(values: &[Expr]) -> PgWireResult<Option<NaiveDate>> {
    let text = match values {
        [Expr::Value(v)] => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        [Expr::Identifier(ident)] => ident.value.clone(),
        _ => String::from("?"),
    };
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("latest") || text.eq_ignore_ascii_case("default") {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some).map_err(|_| {
        user_error(
            "22007",
            format!("{AS_OF_SETTING} must be a business date like '2024-06-30', or 'latest' (got {text})"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Statement {
        let mut s = datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser::new()
            .parse(sql)
            .unwrap();
        s.remove(0)
    }

    fn refused(sql: &str, pii: bool) -> Option<String> {
        match check_read_only(&parse(sql), pii) {
            Ok(()) => None,
            Err(PgWireError::UserError(info)) => Some(format!("{} {}", info.code, info.message)),
            Err(other) => Some(other.to_string()),
        }
    }

    #[test]
    fn reads_pass_and_writes_are_refused_by_name() {
        for sql in [
            "SELECT * FROM application.customer_360 WHERE customer_id = 'C1'",
            "WITH x AS (SELECT 1 AS a) SELECT a FROM x UNION ALL SELECT 2",
            "EXPLAIN SELECT 1",
            "SHOW lakemart.as_of_date",
            "SET lakemart.as_of_date = '2024-06-29'",
            "SET extra_float_digits = 3",
            "RESET lakemart.as_of_date",
            "BEGIN",
            "COMMIT",
            "DECLARE c CURSOR FOR SELECT 1",
            "DEALLOCATE _pg3_0",
            "DISCARD ALL",
        ] {
            assert_eq!(refused(sql, false), None, "{sql}");
        }
        for (sql, what) in [
            ("CREATE TABLE t AS SELECT 1", "CREATE TABLE"),
            ("CREATE OR REPLACE VIEW v AS SELECT 1", "CREATE"),
            (
                "INSERT INTO application.customer_360 SELECT * FROM application.customer_360",
                "INSERT",
            ),
            ("UPDATE foundation.customer SET age = 1", "UPDATE"),
            ("DELETE FROM foundation.customer", "DELETE"),
            ("DROP TABLE foundation.customer", "DROP TABLE"),
            ("TRUNCATE foundation.customer", "TRUNCATE"),
            ("COPY foundation.customer TO '/tmp/x.csv'", "COPY"),
            ("SELECT * INTO t FROM foundation.customer", "SELECT … INTO"),
            ("EXPLAIN ANALYZE INSERT INTO t VALUES (1)", "EXPLAIN INSERT"),
            ("ALTER TABLE foundation.customer ADD COLUMN x INT", "ALTER TABLE"),
        ] {
            let message = refused(sql, true).unwrap_or_else(|| panic!("{sql} passed"));
            assert!(
                message.starts_with("25006") && message.contains(&format!("read-only: {what} is refused")),
                "{sql}: {message}"
            );
        }
    }

    #[test]
    fn settings_of_the_server_and_roles_cannot_be_changed() {
        let m = refused("SET datafusion.execution.target_partitions = 1", true).unwrap();
        assert!(m.starts_with("42501"), "{m}");
        let m = refused("SET ROLE pii", false).unwrap();
        assert!(m.contains("users file"), "{m}");
        let m = refused("SET lakemart.as_of = '2024-06-29'", false).unwrap();
        assert!(m.contains("unrecognized configuration parameter"), "{m}");
    }

    #[test]
    fn verbose_plans_need_the_pii_role() {
        assert!(refused("EXPLAIN VERBOSE SELECT 1", false).unwrap().starts_with("42501"));
        assert_eq!(refused("EXPLAIN VERBOSE SELECT 1", true), None);
    }

    #[test]
    fn the_as_of_date_parses_dates_and_latest() {
        let values = |sql: &str| match parse(sql) {
            Statement::Set(Set::SingleAssignment { values, .. }) => values,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            parse_as_of(&values("SET lakemart.as_of_date = '2024-06-29'")).unwrap(),
            NaiveDate::from_ymd_opt(2024, 6, 29)
        );
        assert_eq!(
            parse_as_of(&values("SET lakemart.as_of_date TO 'latest'")).unwrap(),
            None
        );
        assert_eq!(parse_as_of(&values("SET lakemart.as_of_date = DEFAULT")).unwrap(), None);
        assert!(parse_as_of(&values("SET lakemart.as_of_date = '29/06/2024'")).is_err());
    }
}
