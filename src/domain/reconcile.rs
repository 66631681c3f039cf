//! The daily match of SkyPay's books against ours: a pure function of SkyPay's report rows,
//! our collections and the clock. Every peso SkyPay collected is found among our collections,
//! or becomes an exception for ops.
//!
//! - A row of SkyPay's report is paired with our collection by its `referenceNo`, which is the
//!   collect's `receiptNumber`. Nothing else pairs them automatically: a control number and an
//!   amount are shared by distinct payments (a borrower paying the same instalment twice).
//! - Amounts are compared as exact decimals.
//! - Where no collection carries the reference, one that agrees on the control number, the
//!   amount and the time (within a window) is offered as a `probable_match`, for a person.
//!
//! | status | what | state |
//! |---|---|---|
//! | `matched` | paired, same amount | ok |
//! | `missing_ours` | SkyPay collected it, we have no collection: the collect never reached us | open |
//! | `missing_theirs` | ours, not in SkyPay's report | expected within the grace, then open |
//! | `amount_mismatch` | paired, different amounts | open |
//! | `duplicate` | a reference twice in SkyPay's report, or on two of our collections | open |
//! | `not_posted` | paired, but not posted to the core loan system after the bound | open |
//! | `probable_match` | no pairing, but control number + amount + time agree | open |

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, FixedOffset, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

/// A row of SkyPay's report, as the match needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theirs {
    pub reference_no: String,
    pub control_no: String,
    pub amount: Decimal,
    /// When SkyPay took the cash.
    pub pay_time: Option<DateTime<FixedOffset>>,
    /// On the day being reconciled. Rows of the next day are passed too (not in the day) so
    /// that a collection just before midnight is found in them.
    pub in_day: bool,
}

/// One of our collections, as the match needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ours {
    pub id: Uuid,
    pub receipt_number: String,
    pub control_number: String,
    pub amount: Decimal,
    pub collected_at: DateTime<Utc>,
    pub posted: bool,
    /// Collected on the day being reconciled (others are passed to be found by SkyPay's rows
    /// of the day, never reported missing).
    pub in_day: bool,
}

/// The bounds of the match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub now: DateTime<Utc>,
    /// A collection of ours missing from SkyPay's report is expected (SkyPay's report may lag)
    /// until this long after it was collected, then an exception.
    pub missing_theirs_grace: Duration,
    /// A paired collection not posted to the core loan system this long after it was collected
    /// is an exception.
    pub not_posted_after: Duration,
    /// How far apart SkyPay's pay time and our collected time may be for a `probable_match`.
    pub probable_window: Duration,
    /// Pair a report row with the collection whose receipt is its `referenceNo`. Off: nothing
    /// pairs automatically, every row is a `probable_match` or `missing_ours` for a person.
    pub pair_by_reference: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Matched,
    MissingOurs,
    MissingTheirs,
    AmountMismatch,
    Duplicate,
    NotPosted,
    ProbableMatch,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 7] = [
        ItemStatus::Matched,
        ItemStatus::MissingOurs,
        ItemStatus::MissingTheirs,
        ItemStatus::AmountMismatch,
        ItemStatus::Duplicate,
        ItemStatus::NotPosted,
        ItemStatus::ProbableMatch,
    ];

    pub const NAMES: [&'static str; 7] = [
        ItemStatus::Matched.as_str(),
        ItemStatus::MissingOurs.as_str(),
        ItemStatus::MissingTheirs.as_str(),
        ItemStatus::AmountMismatch.as_str(),
        ItemStatus::Duplicate.as_str(),
        ItemStatus::NotPosted.as_str(),
        ItemStatus::ProbableMatch.as_str(),
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Matched => "matched",
            ItemStatus::MissingOurs => "missing_ours",
            ItemStatus::MissingTheirs => "missing_theirs",
            ItemStatus::AmountMismatch => "amount_mismatch",
            ItemStatus::Duplicate => "duplicate",
            ItemStatus::NotPosted => "not_posted",
            ItemStatus::ProbableMatch => "probable_match",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// Whether an item needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Nothing to do.
    Ok,
    /// Not an exception yet (within its grace).
    Expected,
    /// An exception for ops.
    Open,
}

impl ItemState {
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemState::Ok => "ok",
            ItemState::Expected => "expected",
            ItemState::Open => "open",
        }
    }
}

/// What the match found for one row of SkyPay's report or one collection of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Stable across runs of the same day: `ref:<referenceNo>` (`#2`, `#3` for further copies
    /// of a reference in SkyPay's report), or `ours:<collection id>`.
    pub key: String,
    pub status: ItemStatus,
    pub state: ItemState,
    pub collection_id: Option<Uuid>,
    /// The row of SkyPay's report (an index into `theirs`).
    pub theirs: Option<usize>,
    pub detail: String,
}

/// Matches SkyPay's rows against our collections.
pub fn reconcile(theirs: &[Theirs], ours: &[Ours], rules: &Rules) -> Vec<Item> {
    let mut by_receipt: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, o) in ours.iter().enumerate().filter(|_| rules.pair_by_reference) {
        by_receipt
            .entry(o.receipt_number.as_str())
            .or_default()
            .push(j);
    }
    let mut used: HashSet<usize> = HashSet::new();
    // Rows of the next day only find our collections of the day's last minutes.
    for t in theirs.iter().filter(|t| !t.in_day) {
        if let Some(found) = by_receipt.get(t.reference_no.as_str()) {
            used.extend(found.iter().copied());
        }
    }
    // In a stable order, so that a reference's `#2` is the same row on every run.
    let mut order: Vec<usize> = (0..theirs.len()).filter(|&i| theirs[i].in_day).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&theirs[a], &theirs[b]);
        (&x.reference_no, x.pay_time, x.amount, &x.control_no).cmp(&(
            &y.reference_no,
            y.pay_time,
            y.amount,
            &y.control_no,
        ))
    });
    let mut copies: HashMap<&str, usize> = HashMap::new();
    let mut items = Vec::new();
    let mut unpaired = Vec::new();
    for i in order {
        let t = &theirs[i];
        let n = copies.entry(t.reference_no.as_str()).or_insert(0);
        *n += 1;
        let key = match *n {
            1 => format!("ref:{}", t.reference_no),
            n => format!("ref:{}#{n}", t.reference_no),
        };
        let item = |status, state, collection_id, detail: String| Item {
            key: key.clone(),
            status,
            state,
            collection_id,
            theirs: Some(i),
            detail,
        };
        if *n > 1 {
            items.push(item(
                ItemStatus::Duplicate,
                ItemState::Open,
                None,
                format!(
                    "SkyPay's report lists referenceNo {} {} times",
                    t.reference_no, n
                ),
            ));
            continue;
        }
        match by_receipt.get(t.reference_no.as_str()).map(Vec::as_slice) {
            Some([j]) => {
                used.insert(*j);
                let o = &ours[*j];
                let age = rules.now - o.collected_at;
                items.push(if o.amount != t.amount {
                    item(
                        ItemStatus::AmountMismatch,
                        ItemState::Open,
                        Some(o.id),
                        format!("SkyPay collected {}, we recorded {}", t.amount, o.amount),
                    )
                } else if !o.posted && age > rules.not_posted_after {
                    item(
                        ItemStatus::NotPosted,
                        ItemState::Open,
                        Some(o.id),
                        format!(
                            "not posted to the core loan system {} min after it was collected",
                            age.num_minutes()
                        ),
                    )
                } else {
                    item(
                        ItemStatus::Matched,
                        ItemState::Ok,
                        Some(o.id),
                        String::new(),
                    )
                });
            }
            Some(several) => {
                used.extend(several.iter().copied());
                items.push(item(
                    ItemStatus::Duplicate,
                    ItemState::Open,
                    None,
                    format!(
                        "{} of our collections carry receipt {}",
                        several.len(),
                        t.reference_no
                    ),
                ));
            }
            None => unpaired.push((i, key)),
        }
    }
    // Probable matches only among what no reference paired.
    for (i, key) in unpaired {
        let t = &theirs[i];
        let near = |o: &Ours| match t.pay_time {
            Some(paid) => {
                (o.collected_at - paid.with_timezone(&Utc)).abs() <= rules.probable_window
            }
            None => false,
        };
        let candidate = (0..ours.len()).filter(|j| !used.contains(j)).find(|&j| {
            ours[j].control_number == t.control_no && ours[j].amount == t.amount && near(&ours[j])
        });
        let (status, collection_id, detail) = match candidate {
            Some(j) => {
                used.insert(j);
                (
                    ItemStatus::ProbableMatch,
                    Some(ours[j].id),
                    format!(
                        "no collection carries referenceNo {}; receipt {} agrees on control number, amount and time",
                        t.reference_no, ours[j].receipt_number
                    ),
                )
            }
            None => (
                ItemStatus::MissingOurs,
                None,
                format!(
                    "SkyPay collected {} on {} (referenceNo {}); we have no collection",
                    t.amount, t.control_no, t.reference_no
                ),
            ),
        };
        items.push(Item {
            key,
            status,
            state: ItemState::Open,
            collection_id,
            theirs: Some(i),
            detail,
        });
    }
    for (j, o) in ours.iter().enumerate() {
        if used.contains(&j) || !o.in_day {
            continue;
        }
        let age = rules.now - o.collected_at;
        let state = if age < rules.missing_theirs_grace {
            ItemState::Expected
        } else {
            ItemState::Open
        };
        items.push(Item {
            key: format!("ours:{}", o.id),
            status: ItemStatus::MissingTheirs,
            state,
            collection_id: Some(o.id),
            theirs: None,
            detail: format!(
                "receipt {} ({} on {}) is not in SkyPay's report{}",
                o.receipt_number,
                o.amount,
                o.control_number,
                if o.posted { "" } else { "; not posted yet" }
            ),
        });
    }
    items
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::domain::MANILA;

    fn at(hms: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("2026-11-20T{hms}+08:00")).unwrap()
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn row(reference: &str, control: &str, amount: &str, time: &str) -> Theirs {
        Theirs {
            reference_no: reference.into(),
            control_no: control.into(),
            amount: dec(amount),
            pay_time: Some(at(time)),
            in_day: true,
        }
    }

    fn collection(
        n: u128,
        receipt: &str,
        control: &str,
        amount: &str,
        time: &str,
        posted: bool,
    ) -> Ours {
        Ours {
            id: Uuid::from_u128(n),
            receipt_number: receipt.into(),
            control_number: control.into(),
            amount: dec(amount),
            collected_at: at(time).with_timezone(&Utc),
            posted,
            in_day: true,
        }
    }

    fn rules() -> Rules {
        Rules {
            now: at("23:00:00").with_timezone(&Utc),
            missing_theirs_grace: Duration::hours(2),
            not_posted_after: Duration::hours(1),
            probable_window: Duration::minutes(10),
            pair_by_reference: true,
        }
    }

    fn find<'a>(items: &'a [Item], key: &str) -> &'a Item {
        items
            .iter()
            .find(|i| i.key == key)
            .unwrap_or_else(|| panic!("no {key} in {items:#?}"))
    }

    #[test]
    fn every_status_is_found() {
        let theirs = vec![
            row("R1", "SK1", "100.00", "10:00:00"),
            row("R2", "SK2", "200.00", "10:05:00"),
            row("R3", "SK3", "300.00", "10:10:00"),
            row("R4", "SK4", "400.00", "10:15:00"),
            row("R4", "SK4", "400.00", "10:16:00"),
            row("R5", "SK5", "500.00", "10:20:00"),
            row("R6", "SK6", "600.00", "10:25:00"),
        ];
        let ours = vec![
            collection(1, "R1", "SK1", "100.00", "10:00:01", true),
            collection(2, "R2", "SK2", "200.10", "10:05:01", true),
            collection(4, "R4", "SK4", "400.00", "10:15:01", true),
            collection(5, "R5", "SK5", "500.00", "10:20:01", false),
            collection(6, "X6", "SK6", "600.00", "10:27:00", true),
            collection(7, "R7", "SK7", "700.00", "10:30:00", true),
            collection(8, "R8", "SK8", "800.00", "22:30:00", true),
        ];
        let items = reconcile(&theirs, &ours, &rules());
        let status = |key: &str| (find(&items, key).status, find(&items, key).state);
        assert_eq!(status("ref:R1"), (ItemStatus::Matched, ItemState::Ok));
        assert_eq!(
            status("ref:R2"),
            (ItemStatus::AmountMismatch, ItemState::Open)
        );
        assert_eq!(status("ref:R3"), (ItemStatus::MissingOurs, ItemState::Open));
        assert_eq!(status("ref:R4"), (ItemStatus::Matched, ItemState::Ok));
        assert_eq!(status("ref:R4#2"), (ItemStatus::Duplicate, ItemState::Open));
        assert_eq!(status("ref:R5"), (ItemStatus::NotPosted, ItemState::Open));
        assert_eq!(
            status("ref:R6"),
            (ItemStatus::ProbableMatch, ItemState::Open)
        );
        assert_eq!(
            find(&items, "ref:R6").collection_id,
            Some(Uuid::from_u128(6))
        );
        let seven = format!("ours:{}", Uuid::from_u128(7));
        let eight = format!("ours:{}", Uuid::from_u128(8));
        assert_eq!(status(&seven), (ItemStatus::MissingTheirs, ItemState::Open));
        assert_eq!(
            status(&eight),
            (ItemStatus::MissingTheirs, ItemState::Expected)
        );
        // Every row and every collection is accounted for exactly once.
        assert_eq!(items.len(), theirs.len() + 2);
    }

    #[test]
    fn control_number_and_amount_alone_never_pair() {
        // Same bill, same amount, an hour apart: two payments, not one.
        let theirs = vec![row("R1", "SK1", "100.00", "10:00:00")];
        let ours = vec![collection(1, "OTHER", "SK1", "100.00", "11:00:00", true)];
        let items = reconcile(&theirs, &ours, &rules());
        assert_eq!(find(&items, "ref:R1").status, ItemStatus::MissingOurs);
        assert_eq!(
            find(&items, &format!("ours:{}", Uuid::from_u128(1))).status,
            ItemStatus::MissingTheirs
        );
    }

    #[test]
    fn amounts_compare_exactly_whatever_their_scale() {
        let theirs = vec![
            row("R1", "SK1", "1300.0", "10:00:00"),
            row("R2", "SK1", "0.30", "10:00:00"),
        ];
        let ours = vec![
            collection(1, "R1", "SK1", "1300.00", "10:00:00", true),
            collection(2, "R2", "SK1", "0.3", "10:00:00", true),
        ];
        let items = reconcile(&theirs, &ours, &rules());
        assert!(
            items.iter().all(|i| i.status == ItemStatus::Matched),
            "{items:#?}"
        );
        let ours = vec![collection(1, "R1", "SK1", "1300.01", "10:00:00", true)];
        let items = reconcile(&theirs[..1], &ours, &rules());
        assert_eq!(items[0].status, ItemStatus::AmountMismatch);
    }

    #[test]
    fn without_pairing_by_reference_a_row_is_at_best_probable() {
        let theirs = vec![row("R1", "SK1", "100.00", "10:00:00")];
        let ours = vec![collection(1, "R1", "SK1", "100.00", "10:00:30", true)];
        let rules = Rules {
            pair_by_reference: false,
            ..rules()
        };
        let items = reconcile(&theirs, &ours, &rules);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].status, ItemStatus::ProbableMatch);
    }

    #[test]
    fn a_receipt_on_two_of_our_collections_is_a_duplicate() {
        let theirs = vec![row("R1", "SK1", "100.00", "10:00:00")];
        let ours = vec![
            collection(1, "R1", "SK1", "100.00", "10:00:00", true),
            collection(2, "R1", "SK1", "100.00", "10:00:00", true),
        ];
        let items = reconcile(&theirs, &ours, &rules());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].status, ItemStatus::Duplicate);
    }

    #[test]
    fn the_next_days_rows_find_a_collection_made_just_before_midnight() {
        let mut late = row("R9", "SK9", "900.00", "23:59:59");
        late.pay_time = Some(DateTime::parse_from_rfc3339("2026-11-21T00:00:02+08:00").unwrap());
        late.in_day = false;
        let ours = vec![collection(9, "R9", "SK9", "900.00", "23:59:58", true)];
        let items = reconcile(&[late], &ours, &rules());
        assert!(items.is_empty(), "{items:#?}");
        // And a collection of the previous day found by today's row is matched, not missing.
        let mut early = collection(10, "R10", "SK1", "1.00", "00:00:01", true);
        early.in_day = false;
        let items = reconcile(&[row("R10", "SK1", "1.00", "00:00:03")], &[early], &rules());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].status, ItemStatus::Matched);
        let _ = MANILA;
    }

    #[test]
    fn keys_are_stable_whatever_the_order_of_the_report() {
        let rows = vec![
            row("R4", "SK4", "400.00", "10:16:00"),
            row("R4", "SK4", "400.00", "10:15:00"),
            row("R1", "SK1", "100.00", "10:00:00"),
        ];
        let mut reversed = rows.clone();
        reversed.reverse();
        let a = reconcile(&rows, &[], &rules());
        let b = reconcile(&reversed, &[], &rules());
        let pick = |items: &[Item], theirs: &[Theirs], key: &str| {
            theirs[find(items, key).theirs.unwrap()].pay_time
        };
        assert_eq!(pick(&a, &rows, "ref:R4#2"), pick(&b, &reversed, "ref:R4#2"));
    }
}
