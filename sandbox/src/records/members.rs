//! Members API records: memberships and roles.

use super::*;

pub(super) fn membership(rng: &mut Rng, ctx: &Ctx, idx: usize) -> Built {
    let id = uid(rng, idx);
    let (_, _, e) = person(rng);
    let role = pick(
        rng,
        &[
            ("owner", "Owner"),
            ("admin", "Admin"),
            ("member", "Member"),
            ("member", "Member"),
        ],
    );
    Built {
        key: id.clone(),
        value: json!({
            "id": id,
            "organization": {"id": ctx.org_id},
            "account": {"id": uid(rng, idx), "email": e},
            "role": {"code": role.0, "name": role.1},
        }),
        source_created: None,
    }
}

pub(super) fn role(idx: usize) -> Built {
    let fixed = [
        ("owner", "Owner"),
        ("admin", "Admin"),
        ("member", "Member"),
        ("viewer", "Viewer"),
        ("billing_manager", "Billing manager"),
        ("developer", "Developer"),
    ];
    let (code, name) = if idx < fixed.len() {
        (fixed[idx].0.to_string(), fixed[idx].1.to_string())
    } else {
        (format!("custom_role_{idx}"), format!("Custom role {idx}"))
    };
    Built {
        key: code.clone(),
        value: json!({"code": code, "name": name}),
        source_created: None,
    }
}
