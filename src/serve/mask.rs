//! Masking of `pii = true` columns for users without the `pii` role: the masks
//! themselves (plain functions, exposed to SQL as `mask_*` scalar functions) and
//! the masked table, a view `TableScan → Projection(mask(col) AS col)` that
//! replaces the raw table in a masked session, so no query can reach a raw value.
//!
//! Which mask a column gets follows its name (`cert_no` → ID number, `mobile` →
//! phone, `*_name` → name, `card_no`/`agreement_id` → account number, `email` →
//! e-mail), then its type (dates keep only the year); anything else keeps its
//! first character. Masked columns are text.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use deltalake::arrow::array::{Array, ArrayRef, StringArray};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Field, SchemaRef};
use deltalake::datafusion::catalog::{Session, TableProvider};
use deltalake::datafusion::common::{Column, Result as DfResult, TableReference};
use deltalake::datafusion::datasource::{ViewTable, provider_as_source};
use deltalake::datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TableProviderFilterPushDown, TableType, Volatility,
};
use deltalake::datafusion::physical_plan::ExecutionPlan;

/// The kinds of mask, each a SQL function `mask_<kind>(text) → text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaskKind {
    /// Resident identity card numbers: first 6 and last 4 kept, `110101********1234`.
    IdNumber,
    /// Personal names: first character kept, one `*` per other character, `张*`.
    Name,
    /// Phone numbers: first 3 and last 4 kept, `138****5678`.
    Phone,
    /// E-mail addresses: first character of the local part and the domain, `z***@bank.cn`.
    Email,
    /// Card, account and agreement numbers: first 6 and last 4 kept when at least 12
    /// long (as card numbers are shown), else only the last 4.
    Account,
    /// Dates and timestamps: only the year, `1990-**-**`.
    Date,
    /// Anything else (counterparties, addresses): first character, one `*` per other.
    Text,
}

impl MaskKind {
    pub const ALL: [MaskKind; 7] = [
        MaskKind::IdNumber,
        MaskKind::Name,
        MaskKind::Phone,
        MaskKind::Email,
        MaskKind::Account,
        MaskKind::Date,
        MaskKind::Text,
    ];

    /// The SQL function name.
    pub fn function_name(self) -> &'static str {
        match self {
            MaskKind::IdNumber => "mask_id_number",
            MaskKind::Name => "mask_name",
            MaskKind::Phone => "mask_phone",
            MaskKind::Email => "mask_email",
            MaskKind::Account => "mask_account",
            MaskKind::Date => "mask_date",
            MaskKind::Text => "mask_text",
        }
    }

    /// The mask for a column, from its name and then its type.
    pub fn for_column(name: &str, data_type: &DataType) -> MaskKind {
        let name = name.to_ascii_lowercase();
        let words: Vec<&str> = name.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        let has = |w: &[&str]| words.iter().any(|x| w.contains(x));
        if has(&["email", "mail"]) {
            MaskKind::Email
        } else if has(&["mobile", "phone", "tel", "telephone", "cellphone"]) {
            MaskKind::Phone
        } else if has(&["cert", "idcard", "idno", "passport"]) || name.contains("id_no") || name.contains("id_number") {
            MaskKind::IdNumber
        } else if has(&["card", "acct", "account", "agreement", "iban", "loan", "contract"]) {
            MaskKind::Account
        } else if has(&["name"]) {
            MaskKind::Name
        } else if matches!(
            data_type,
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
        ) {
            MaskKind::Date
        } else {
            MaskKind::Text
        }
    }

    /// Mask one value.
    pub fn apply(self, value: &str) -> String {
        let chars: Vec<char> = value.chars().collect();
        match self {
            MaskKind::IdNumber => keep_ends(&chars, 6, 4),
            MaskKind::Phone => keep_ends(&chars, 3, 4),
            MaskKind::Name | MaskKind::Text => first_only(&chars),
            MaskKind::Account if chars.len() >= 12 => keep_ends(&chars, 6, 4),
            MaskKind::Account => keep_ends(&chars, 0, 4),
            MaskKind::Email => match value.rsplit_once('@') {
                Some((local, domain)) if !local.is_empty() => {
                    let first: String = local.chars().take(1).collect();
                    format!("{first}***@{domain}")
                }
                _ => first_only(&chars),
            },
            MaskKind::Date => chars
                .iter()
                .enumerate()
                .map(|(i, c)| if i >= 4 && c.is_ascii_digit() { '*' } else { *c })
                .collect(),
        }
    }
}

/// `first` leading and `last` trailing characters kept, the rest `*`. A value too
/// short for that keeps a quarter at each end, so never more than half shows.
fn keep_ends(chars: &[char], first: usize, last: usize) -> String {
    let n = chars.len();
    let (first, last) = if n >= first + last + 2 {
        (first, last)
    } else {
        (n / 4, n / 4)
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < first || i >= n - last { *c } else { '*' })
        .collect()
}

/// The first character, then one `*` per remaining character; a single character is `*`.
fn first_only(chars: &[char]) -> String {
    match chars {
        [] => String::new(),
        [_] => "*".into(),
        [c, rest @ ..] => std::iter::once(*c).chain(rest.iter().map(|_| '*')).collect(),
    }
}

/// One mask as a DataFusion scalar function over text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct MaskUdf {
    kind: MaskKind,
    signature: Signature,
}

impl ScalarUDFImpl for MaskUdf {
    fn name(&self) -> &str {
        self.kind.function_name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let text = cast(&arrays[0], &DataType::Utf8)?;
        let text = text
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| deltalake::datafusion::error::DataFusionError::Internal("mask input is not text".into()))?;
        let masked: StringArray = text.iter().map(|v| v.map(|v| self.kind.apply(v))).collect();
        Ok(ColumnarValue::Array(Arc::new(masked) as ArrayRef))
    }
}

/// The scalar function for `kind`.
pub fn udf(kind: MaskKind) -> ScalarUDF {
    ScalarUDF::new_from_impl(MaskUdf {
        kind,
        signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
    })
}

/// Every mask function, to register in a session.
pub fn udfs() -> Vec<ScalarUDF> {
    MaskKind::ALL.into_iter().map(udf).collect()
}

/// `raw` with its columns named in `pii` masked, as a table named `name`; `raw`
/// itself when none of its columns is pii.
pub fn masked_table(
    name: TableReference,
    raw: Arc<dyn TableProvider>,
    pii: &BTreeSet<String>,
) -> DfResult<Arc<dyn TableProvider>> {
    let schema = raw.schema();
    if !schema.fields().iter().any(|f| pii.contains(f.name())) {
        return Ok(raw);
    }
    let exprs: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| mask_expr(f, pii.contains(f.name())))
        .collect();
    let plan = LogicalPlanBuilder::scan(name, provider_as_source(raw), None)?
        .project(exprs)?
        .build()?;
    Ok(Arc::new(MaskedTable {
        view: ViewTable::new(plan, None),
    }))
}

fn mask_expr(field: &Field, pii: bool) -> Expr {
    let column = Expr::Column(Column::new_unqualified(field.name()));
    if !pii {
        return column;
    }
    let kind = MaskKind::for_column(field.name(), field.data_type());
    udf(kind)
        .call(vec![deltalake::datafusion::logical_expr::cast(column, DataType::Utf8)])
        .alias(field.name())
}

/// A masked table: a view over the raw table that catalogs list as a table.
/// The SQL planner inlines its plan, so filters on unmasked columns still reach the Delta scan.
#[derive(Debug)]
struct MaskedTable {
    view: ViewTable,
}

#[async_trait]
impl TableProvider for MaskedTable {
    fn schema(&self) -> SchemaRef {
        self.view.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn get_logical_plan(&'_ self) -> Option<Cow<'_, LogicalPlan>> {
        self.view.get_logical_plan()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.view.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.view.supports_filters_pushdown(filters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_keep_the_first_six_and_last_four() {
        assert_eq!(MaskKind::IdNumber.apply("110101199001011234"), "110101********1234");
        assert_eq!(MaskKind::IdNumber.apply("11010119900101123X"), "110101********123X");
        // The old 15-digit numbers.
        assert_eq!(MaskKind::IdNumber.apply("110101900101123"), "110101*****1123");
        // Too short for 6 + 4: a quarter at each end.
        assert_eq!(MaskKind::IdNumber.apply("E1234567"), "E1****67");
    }

    #[test]
    fn names_keep_the_first_character() {
        assert_eq!(MaskKind::Name.apply("张三"), "张*");
        assert_eq!(MaskKind::Name.apply("欧阳娜娜"), "欧***");
        assert_eq!(MaskKind::Name.apply("王"), "*");
        assert_eq!(MaskKind::Name.apply("Li Wei"), "L*****");
        assert_eq!(MaskKind::Name.apply(""), "");
    }

    #[test]
    fn phones_keep_three_and_four_digits() {
        assert_eq!(MaskKind::Phone.apply("13812345678"), "138****5678");
        assert_eq!(MaskKind::Phone.apply("+8613812345678"), "+86*******5678");
        assert_eq!(MaskKind::Phone.apply("5678"), "5**8");
    }

    #[test]
    fn emails_keep_the_first_letter_and_the_domain() {
        assert_eq!(MaskKind::Email.apply("zhang.san@bank.cn"), "z***@bank.cn");
        assert_eq!(MaskKind::Email.apply("@bank.cn"), "@*******");
        assert_eq!(MaskKind::Email.apply("nobody"), "n*****");
    }

    #[test]
    fn card_and_account_numbers_keep_the_bin_and_last_four() {
        assert_eq!(MaskKind::Account.apply("6222021234567890"), "622202******7890");
        assert_eq!(MaskKind::Account.apply("6222021234567890123"), "622202*********0123");
        assert_eq!(MaskKind::Account.apply("A00012345"), "*****2345");
    }

    #[test]
    fn dates_keep_the_year() {
        assert_eq!(MaskKind::Date.apply("1990-05-17"), "1990-**-**");
        assert_eq!(MaskKind::Date.apply("1990-05-17 08:30:00"), "1990-**-** **:**:**");
    }

    #[test]
    fn free_text_keeps_the_first_character() {
        assert_eq!(MaskKind::Text.apply("华为技术有限公司"), "华*******");
        assert_eq!(MaskKind::Text.apply("支付宝"), "支**");
    }

    #[test]
    fn the_mask_follows_the_column_name_then_its_type() {
        let text = DataType::Utf8;
        assert_eq!(MaskKind::for_column("cert_no", &text), MaskKind::IdNumber);
        assert_eq!(MaskKind::for_column("customer_name", &text), MaskKind::Name);
        assert_eq!(MaskKind::for_column("cust_name", &text), MaskKind::Name);
        assert_eq!(MaskKind::for_column("mobile", &text), MaskKind::Phone);
        assert_eq!(MaskKind::for_column("card_no", &text), MaskKind::Account);
        assert_eq!(MaskKind::for_column("agreement_id", &text), MaskKind::Account);
        assert_eq!(MaskKind::for_column("email", &text), MaskKind::Email);
        assert_eq!(MaskKind::for_column("counterparty", &text), MaskKind::Text);
        assert_eq!(MaskKind::for_column("birth_date", &DataType::Date32), MaskKind::Date);
    }

    #[tokio::test]
    async fn a_masked_table_masks_every_way_in() {
        use deltalake::arrow::array::RecordBatch;
        use deltalake::arrow::datatypes::Schema;
        use deltalake::datafusion::datasource::MemTable;
        use deltalake::datafusion::prelude::SessionContext;

        let schema = Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Utf8, false),
            Field::new("cert_no", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["C1", "C2"])),
                Arc::new(StringArray::from(vec![Some("110101199001011234"), None])),
            ],
        )
        .unwrap();
        let raw = Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap());
        let pii = BTreeSet::from(["cert_no".to_string()]);
        let masked = masked_table(TableReference::bare("c"), raw, &pii).unwrap();
        assert_eq!(masked.table_type(), TableType::Base);
        let ctx = SessionContext::new();
        ctx.register_table("c", masked).unwrap();
        for sql in [
            "SELECT cert_no AS v FROM c WHERE customer_id = 'C1'",
            "SELECT substr(cert_no, 1, 18) AS v FROM c WHERE customer_id = 'C1'",
            "SELECT x.cert_no AS v FROM (SELECT * FROM c) x JOIN c y ON x.customer_id = y.customer_id \
             WHERE x.customer_id = 'C1'",
        ] {
            let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
            let text = deltalake::arrow::util::pretty::pretty_format_batches(&batches)
                .unwrap()
                .to_string();
            assert!(text.contains("110101********1234"), "{sql}:\n{text}");
            assert!(!text.contains("199001011234"), "{sql}:\n{text}");
        }
        let batches = ctx
            .sql("SELECT count(*) AS n FROM c WHERE cert_no IS NULL")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = deltalake::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(text.contains("| 1 |"), "{text}");
    }
}
