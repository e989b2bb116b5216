//! Declare: signatories, declarations and the agenda's decisions live in the record
//! alone (record spec §10) — no other table holds them, so what the pages show is what
//! the verifiers check. Organisations register through invitation codes (a batch
//! granting `organisation`), members through their membership.

use std::collections::BTreeMap;

use hiwar_record::declaration::{Declarations, ORGANISATION_ROLE};
use serde_json::Value;
use sqlx::Row;

use crate::*;

/// What the record establishes for the Declare pages.
#[derive(Debug, Clone)]
pub struct DeclareView {
    pub declarations: Declarations,
    /// statement → the convener's latest decision on it as an agenda item, if any.
    pub agenda: BTreeMap<String, Option<hiwar_record::events::AgendaDecision>>,
    /// member id → pseudonym (for who drafted a version).
    pub pseudonyms: BTreeMap<String, String>,
}

impl Store {
    /// The record's signatories, declarations and agenda as its checks hold them now.
    pub async fn declare_view(&self, dialogue: &str) -> Result<DeclareView> {
        self.with_checks(dialogue, |checks| DeclareView {
            declarations: checks.declarations.clone(),
            agenda: checks.state.agenda.clone(),
            pseudonyms: checks.state.members.iter().map(|(id, (p, _))| (id.clone(), p.clone())).collect(),
        })
        .await
    }

    /// Registers an organisation whose invitation code (lookup part `lookup`, already
    /// checked by the caller) is unused: the code is spent and `body` (a
    /// `signatory.registered` body without its batch) recorded with the code's batch,
    /// in one transaction — a registration the record's checks refuse spends nothing.
    pub async fn register_organisation(&self, dialogue: &str, lookup: &str, mut body: Value) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT b.id FROM credentials c JOIN code_batches b ON b.id = c.batch_id \
             WHERE c.lookup = $1 AND c.kind = 'invitation' AND b.dialogue_id = $2 AND b.role = $3",
        )
        .bind(lookup)
        .bind(dialogue)
        .bind(ORGANISATION_ROLE)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Unusable)?;
        let batch: String = row.get(0);
        let used = sqlx::query(
            "UPDATE credentials SET used_at = $2 WHERE lookup = $1 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(lookup)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(StoreError::Unusable);
        }
        body["batch"] = Value::String(batch);
        self.append_declare(&mut tx, dialogue, "signatory.registered", body).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a `signatory.*`, `declaration.*` or `agenda.decided` event, after the
    /// record's own checks accept it (their state is all there is of these).
    pub async fn record_declare_event(&self, dialogue: &str, kind: &str, body: Value) -> Result<()> {
        if !(Declarations::handles(kind) || kind == "agenda.decided") {
            return Err(StoreError::Record(format!("{kind} is not a Declare event")));
        }
        let mut tx = self.begin_write().await?;
        self.append_declare(&mut tx, dialogue, kind, body).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Appends a Declare event. The declaration checks (and R9's agenda rules) change
    /// nothing when they refuse an event, so a refusal keeps the checks' state: anyone
    /// may send a signature, and a bad one must not cost a replay of the whole record.
    async fn append_declare(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        dialogue: &str,
        kind: &str,
        body: Value,
    ) -> Result<()> {
        self.append_with(tx, dialogue, kind, true, |checks, seq| checks.apply(seq, kind, body.clone()).map(|()| body))
            .await
            .map(|_| ())
    }

    /// Whether any member (not only conveners) may draft declarations.
    pub async fn members_draft(&self, dialogue: &str) -> Result<bool> {
        let row = sqlx::query("SELECT members_draft FROM dialogues WHERE id = $1")
            .bind(dialogue)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("dialogue"))?;
        Ok(row.get::<i64, _>(0) == 1)
    }

    pub async fn set_members_draft(&self, dialogue: &str, allowed: bool) -> Result<()> {
        sqlx::query("UPDATE dialogues SET members_draft = $2 WHERE id = $1")
            .bind(dialogue)
            .bind(allowed as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
