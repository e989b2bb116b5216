//! Dialogues, their phases, members and roles.

use hiwar_record::events::{body, ROLES};
use sqlx::{Any, Row, Transaction};

use crate::*;

impl Store {
    // ----- dialogues -----

    /// Creates a dialogue with a fresh signing key; its creator joins as convener.
    pub async fn create_dialogue(&self, new: &NewDialogue, creator: &str, pseudonym: &str) -> Result<String> {
        let id = random_id("", 12);
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let secret_hex = Zeroizing::new(hex::encode(key.to_bytes()));
        let public_hex = hex::encode(key.verifying_key().to_bytes());
        let created = now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO dialogues (id, title_ar, title_en, description_ar, description_en, listed, signing_key, \
             public_key, current_phase, record_len, record_head, record_time, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, 0, $9, $10, $10)",
        )
        .bind(&id)
        .bind(&new.title.ar)
        .bind(&new.title.en)
        .bind(&new.description.ar)
        .bind(&new.description.en)
        .bind(new.listed as i64)
        .bind(secret_hex.as_str())
        .bind(&public_hex)
        .bind(hiwar_record::GENESIS_PREV)
        .bind(&created)
        .execute(&mut *tx)
        .await?;
        let created_body = body::dialogue_created(&new.title.record(), &new.description.record(), &public_hex);
        self.append(&mut tx, &id, "dialogue.created", created_body).await?;
        let member = insert_member(self, &mut tx, &id, creator, pseudonym, "convener", None).await?;
        sqlx::query("UPDATE dialogues SET creator_member = $2 WHERE id = $1")
            .bind(&id)
            .bind(&member)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_dialogues(&self) -> Result<Vec<DialogueSummary>> {
        let rows = sqlx::query(
            "SELECT id, title_ar, title_en, created_at FROM dialogues WHERE listed = 1 ORDER BY created_at DESC, id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| DialogueSummary {
                id: r.get(0),
                title: Text::new(r.get::<String, _>(1), r.get::<String, _>(2)),
                created_at: r.get(3),
            })
            .collect())
    }

    /// Every dialogue's id, listed or not (for operators' tools: backups, checks).
    pub async fn dialogue_ids(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT id FROM dialogues ORDER BY created_at, id").fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// The dialogue's id, title and creation time, in one indexed read (pages that show
    /// only the title need not count a national dialogue's members).
    pub async fn dialogue_summary(&self, id: &str) -> Result<DialogueSummary> {
        let r = sqlx::query("SELECT id, title_ar, title_en, created_at FROM dialogues WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("dialogue"))?;
        Ok(DialogueSummary {
            id: r.get(0),
            title: Text::new(r.get::<String, _>(1), r.get::<String, _>(2)),
            created_at: r.get(3),
        })
    }

    pub async fn dialogue(&self, id: &str) -> Result<Dialogue> {
        let r = sqlx::query(
            "SELECT id, title_ar, title_en, description_ar, description_en, listed, public_key, current_phase, \
             record_len, record_head, created_at, (SELECT COUNT(*) FROM members m WHERE m.dialogue_id = d.id) \
             FROM dialogues d WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("dialogue"))?;
        let phases =
            sqlx::query("SELECT kind, name_ar, name_en, starts, ends FROM phases WHERE dialogue_id = $1 ORDER BY idx")
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|p| Phase {
                    kind: p.get(0),
                    name: Text::new(p.get::<String, _>(1), p.get::<String, _>(2)),
                    starts: p.get(3),
                    ends: p.get(4),
                })
                .collect();
        Ok(Dialogue {
            id: r.get(0),
            title: Text::new(r.get::<String, _>(1), r.get::<String, _>(2)),
            description: Text::new(r.get::<String, _>(3), r.get::<String, _>(4)),
            listed: r.get::<i64, _>(5) == 1,
            public_key: r.get(6),
            current_phase: r.get::<Option<i64>, _>(7).map(|p| p as usize),
            record_len: r.get::<i64, _>(8) as u64,
            record_head: r.get(9),
            created_at: r.get(10),
            members: r.get::<i64, _>(11) as u64,
            phases,
        })
    }

    /// Adds a phase at the end of the dialogue's schedule.
    pub async fn add_phase(&self, dialogue: &str, phase: &Phase) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        // Lock the dialogue row first (see `append`) so the index is computed under the lock.
        Self::lock_dialogue(&mut tx, dialogue).await?;
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM phases WHERE dialogue_id = $1")
            .bind(dialogue)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        sqlx::query(
            "INSERT INTO phases (dialogue_id, idx, kind, name_ar, name_en, starts, ends) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(dialogue)
        .bind(count)
        .bind(&phase.kind)
        .bind(&phase.name.ar)
        .bind(&phase.name.en)
        .bind(&phase.starts)
        .bind(&phase.ends)
        .execute(&mut *tx)
        .await?;
        let b = body::phase_added(count as u64, &phase.kind, &phase.name.record(), &phase.starts, &phase.ends);
        self.append(&mut tx, dialogue, "phase.added", b).await?;
        tx.commit().await?;
        Ok(count as usize)
    }

    /// Moves the dialogue to phase `index` (or to none).
    pub async fn set_current_phase(&self, dialogue: &str, index: Option<usize>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        if let Some(index) = index {
            let exists = sqlx::query("SELECT 1 FROM phases WHERE dialogue_id = $1 AND idx = $2")
                .bind(dialogue)
                .bind(index as i64)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound("phase"));
            }
        }
        sqlx::query("UPDATE dialogues SET current_phase = $2 WHERE id = $1")
            .bind(dialogue)
            .bind(index.map(|i| i as i64))
            .execute(&mut *tx)
            .await?;
        self.append(&mut tx, dialogue, "phase.changed", body::phase_changed(index.map(|i| i as u64))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the dialogue's write lock for the rest of the transaction.
    pub(crate) async fn lock_dialogue(tx: &mut Transaction<'_, Any>, dialogue: &str) -> Result<()> {
        let done = sqlx::query("UPDATE dialogues SET record_len = record_len WHERE id = $1")
            .bind(dialogue)
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound("dialogue"));
        }
        Ok(())
    }

    // ----- members and roles -----

    /// Where `account` stands in `dialogue`, in one query: their member id, their
    /// roles and the kind of the dialogue's current phase. `NotFound` when the dialogue
    /// does not exist.
    pub async fn standing(&self, dialogue: &str, account: &str) -> Result<Standing> {
        let rows = sqlx::query(&format!(
            "SELECT {STANDING_COLUMNS} \
             FROM dialogues d LEFT JOIN members m ON m.dialogue_id = d.id AND m.account_id = $2 \
             LEFT JOIN member_roles r ON r.member_id = m.id WHERE d.id = $1"
        ))
        .bind(dialogue)
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        Standing::from_rows(&rows, 0).ok_or(StoreError::NotFound("dialogue"))
    }

    pub async fn membership(&self, dialogue: &str, account: &str) -> Result<Option<Member>> {
        let row = sqlx::query("SELECT id FROM members WHERE dialogue_id = $1 AND account_id = $2")
            .bind(dialogue)
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(self.members_where(dialogue, Some(r.get::<&str, _>(0))).await?.pop()),
            None => Ok(None),
        }
    }

    pub async fn members(&self, dialogue: &str) -> Result<Vec<Member>> {
        self.dialogue_exists(dialogue).await?;
        self.members_where(dialogue, None).await
    }

    pub(crate) async fn members_where(&self, dialogue: &str, member: Option<&str>) -> Result<Vec<Member>> {
        let rows: Vec<AnyRow> = sqlx::query(
            "SELECT m.id, m.pseudonym, m.joined_at, r.role FROM members m \
             LEFT JOIN member_roles r ON r.member_id = m.id \
             WHERE m.dialogue_id = $1 AND ($2 = '' OR m.id = $2) ORDER BY m.joined_at, m.id, r.role",
        )
        .bind(dialogue)
        .bind(member.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<Member> = Vec::new();
        for r in rows {
            let id: String = r.get(0);
            if out.last().map(|m| &m.id) != Some(&id) {
                out.push(Member { id, pseudonym: r.get(1), joined_at: r.get(2), roles: Vec::new() });
            }
            if let Some(role) = r.get::<Option<String>, _>(3) {
                out.last_mut().expect("pushed above").roles.push(role);
            }
        }
        Ok(out)
    }

    /// Grants (`grant = true`) or revokes a role; `by` is the acting convener's member id.
    pub async fn change_role(&self, dialogue: &str, member: &str, role: &str, grant: bool, by: &str) -> Result<()> {
        if !ROLES.contains(&role) {
            return Err(StoreError::Conflict(format!("unknown role {role:?}")));
        }
        let mut tx = self.begin_write().await?;
        Self::lock_dialogue(&mut tx, dialogue).await?;
        let exists = sqlx::query("SELECT 1 FROM members WHERE id = $1 AND dialogue_id = $2")
            .bind(member)
            .bind(dialogue)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound("member"));
        }
        let sql = if grant {
            match self.backend {
                Backend::Sqlite => "INSERT OR IGNORE INTO member_roles (member_id, role) VALUES ($1, $2)",
                Backend::Postgres => {
                    "INSERT INTO member_roles (member_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                }
            }
        } else {
            "DELETE FROM member_roles WHERE member_id = $1 AND role = $2"
        };
        let changed = sqlx::query(sql).bind(member).bind(role).execute(&mut *tx).await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "the member {} the role {role}",
                if grant { "already has" } else { "does not have" }
            )));
        }
        if !grant && role == "convener" {
            let creator: Option<String> = sqlx::query("SELECT creator_member FROM dialogues WHERE id = $1")
                .bind(dialogue)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
            if creator.as_deref() == Some(member) && by != member {
                return Err(StoreError::Conflict(
                    "only the convener who created the dialogue can give up that role".into(),
                ));
            }
            let left: i64 = sqlx::query(
                "SELECT COUNT(*) FROM member_roles r JOIN members m ON m.id = r.member_id \
                 WHERE m.dialogue_id = $1 AND r.role = 'convener'",
            )
            .bind(dialogue)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
            if left == 0 {
                return Err(StoreError::Conflict("a dialogue keeps at least one convener".into()));
            }
        }
        let kind = if grant { "role.granted" } else { "role.revoked" };
        self.append(&mut tx, dialogue, kind, body::role_changed(member, role, by)).await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) async fn insert_member(
    store: &Store,
    tx: &mut Transaction<'_, Any>,
    dialogue: &str,
    account: &str,
    pseudonym: &str,
    role: &str,
    batch: Option<&str>,
) -> Result<String> {
    let member = random_id("m-", 10);
    let pseudonym = pseudonym.trim();
    sqlx::query(
        "INSERT INTO members (id, dialogue_id, account_id, pseudonym, pseudonym_key, joined_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&member)
    .bind(dialogue)
    .bind(account)
    .bind(pseudonym)
    .bind(pseudonym_key(pseudonym))
    .bind(now())
    .execute(&mut **tx)
    .await
    .map_err(unique_as_conflict("this pseudonym is already taken in this dialogue"))?;
    sqlx::query("INSERT INTO member_roles (member_id, role) VALUES ($1, $2)")
        .bind(&member)
        .bind(role)
        .execute(&mut **tx)
        .await?;
    store.append(tx, dialogue, "member.joined", body::member_joined(&member, pseudonym, role, batch)).await?;
    Ok(member)
}
