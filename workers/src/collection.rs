//! What every part of the service knows about a recorded collection: the statuses it moves
//! through and the kinds of flag raised for ops. They live here, at the bottom of the
//! workspace, because the posting pipeline writes them too; the collector re-exports them
//! from its `domain`. The database keeps them as text (`as_str`).

use std::fmt;

/// A collection's place in its life. `recorded` (committed with its outbox row) →
/// `published` (the relay handed it to the broker) → `posted`; or `retrying` between
/// attempts; or `dead_lettered` (a person decides: `replayed` sends it again, `discarded`
/// gives up on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollectionStatus {
    Recorded,
    Published,
    Retrying,
    Posted,
    DeadLettered,
    Replayed,
    Discarded,
}

impl CollectionStatus {
    pub const ALL: [CollectionStatus; 7] = [
        CollectionStatus::Recorded,
        CollectionStatus::Published,
        CollectionStatus::Retrying,
        CollectionStatus::Posted,
        CollectionStatus::DeadLettered,
        CollectionStatus::Replayed,
        CollectionStatus::Discarded,
    ];

    /// The names, in the order of `ALL` (for documents and help texts).
    pub const NAMES: [&'static str; 7] = [
        CollectionStatus::Recorded.as_str(),
        CollectionStatus::Published.as_str(),
        CollectionStatus::Retrying.as_str(),
        CollectionStatus::Posted.as_str(),
        CollectionStatus::DeadLettered.as_str(),
        CollectionStatus::Replayed.as_str(),
        CollectionStatus::Discarded.as_str(),
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CollectionStatus::Recorded => "recorded",
            CollectionStatus::Published => "published",
            CollectionStatus::Retrying => "retrying",
            CollectionStatus::Posted => "posted",
            CollectionStatus::DeadLettered => "dead_lettered",
            CollectionStatus::Replayed => "replayed",
            CollectionStatus::Discarded => "discarded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Still on its way to the core loan system: a worker may post it.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            CollectionStatus::Recorded
                | CollectionStatus::Published
                | CollectionStatus::Retrying
                | CollectionStatus::Replayed
        )
    }
}

impl fmt::Display for CollectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stored as the `collections.status` text.
impl sqlx::Type<sqlx::Postgres> for CollectionStatus {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <&str as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for CollectionStatus {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Self::parse(text).ok_or_else(|| format!("unknown collection status `{text}`").into())
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for CollectionStatus {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<sqlx::Postgres>>::encode_by_ref(&self.as_str(), buf)
    }
}

/// Why ops should look at something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagKind {
    /// A receipt sent again with every field the same.
    Replay,
    /// A receipt sent again with different fields.
    Conflict,
    /// The same amount on the same bill within minutes of an earlier collection.
    SuspectedDoublePayment,
    /// A collect we refused (the cash may still be in the till).
    RefusedCollect,
    /// More than the outstanding amount, accepted under `OVERPAYMENT=accept`.
    Overpayment,
    /// The core loan system already had a payment with this receipt.
    CoreDuplicate,
    /// Recorded by adopting a row of SkyPay's report that we had no collection for
    /// (reconciliation): SkyPay collected it, its collect never reached us.
    Adopted,
}

impl FlagKind {
    pub const ALL: [FlagKind; 7] = [
        FlagKind::Replay,
        FlagKind::Conflict,
        FlagKind::SuspectedDoublePayment,
        FlagKind::RefusedCollect,
        FlagKind::Overpayment,
        FlagKind::CoreDuplicate,
        FlagKind::Adopted,
    ];

    /// The names, in the order of `ALL` (for documents and help texts).
    pub const NAMES: [&'static str; 7] = [
        FlagKind::Replay.as_str(),
        FlagKind::Conflict.as_str(),
        FlagKind::SuspectedDoublePayment.as_str(),
        FlagKind::RefusedCollect.as_str(),
        FlagKind::Overpayment.as_str(),
        FlagKind::CoreDuplicate.as_str(),
        FlagKind::Adopted.as_str(),
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            FlagKind::Replay => "replay",
            FlagKind::Conflict => "conflict",
            FlagKind::SuspectedDoublePayment => "suspected_double_payment",
            FlagKind::RefusedCollect => "refused_collect",
            FlagKind::Overpayment => "overpayment",
            FlagKind::CoreDuplicate => "core_duplicate",
            FlagKind::Adopted => "adopted",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

impl fmt::Display for FlagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_all() {
        for (status, name) in CollectionStatus::ALL
            .into_iter()
            .zip(CollectionStatus::NAMES)
        {
            assert_eq!(status.as_str(), name);
            assert_eq!(CollectionStatus::parse(name), Some(status));
        }
        for (kind, name) in FlagKind::ALL.into_iter().zip(FlagKind::NAMES) {
            assert_eq!(kind.as_str(), name);
            assert_eq!(FlagKind::parse(name), Some(kind));
        }
        assert_eq!(CollectionStatus::parse("open"), None);
        assert_eq!(FlagKind::parse("Replay"), None);
    }
}
