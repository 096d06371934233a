//! Seeded fault injection: error bursts, 429 storms, broken bodies, loop traps, odd records.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use fastrand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    E500,
    E502,
    E503,
    Storm429,
    Reset,
    Truncate,
    Slow,
    RepeatCursor,
    OddRecord,
    UnauthorizedAfter,
}

impl FaultKind {
    pub const ALL: [FaultKind; 10] = [
        FaultKind::E500,
        FaultKind::E502,
        FaultKind::E503,
        FaultKind::Storm429,
        FaultKind::Reset,
        FaultKind::Truncate,
        FaultKind::Slow,
        FaultKind::RepeatCursor,
        FaultKind::OddRecord,
        FaultKind::UnauthorizedAfter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::E500 => "500",
            FaultKind::E502 => "502",
            FaultKind::E503 => "503",
            FaultKind::Storm429 => "429",
            FaultKind::Reset => "reset",
            FaultKind::Truncate => "truncate",
            FaultKind::Slow => "slow",
            FaultKind::RepeatCursor => "repeat-cursor",
            FaultKind::OddRecord => "odd-record",
            FaultKind::UnauthorizedAfter => "unauthorized-after",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown fault kind {s:?}"))
    }
}

impl Serialize for FaultKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for FaultKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One configured fault: a kind and its per-request probability (a count for
/// `unauthorized-after`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    pub kind: FaultKind,
    pub rate: f64,
}

impl FromStr for FaultSpec {
    type Err = String;
    /// `KIND:RATE`, e.g. `503:0.1` or `unauthorized-after:50`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, r) = s
            .rsplit_once(':')
            .ok_or_else(|| format!("fault {s:?} is not KIND:RATE"))?;
        let kind: FaultKind = k.parse()?;
        let rate: f64 = r.parse().map_err(|_| format!("bad fault rate {r:?}"))?;
        let ok = if kind == FaultKind::UnauthorizedAfter {
            rate >= 0.0
        } else {
            rate > 0.0 && rate <= 1.0
        };
        if !ok {
            return Err(format!("fault rate {rate} out of range for {kind}"));
        }
        Ok(FaultSpec { kind, rate })
    }
}

/// What to do to one request before it is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreFault {
    Status(u16),
    Storm429,
    Unauthorized,
}

/// The faults that apply to one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plan {
    pub pre: Option<PreFault>,
    pub slow: bool,
    pub reset: bool,
    pub truncate: bool,
    pub repeat_cursor: bool,
    pub odd_record: bool,
}

/// Mutable fault state: the dice, bursts per endpoint, the storm, the request count
/// and the cursors caught in the loop trap.
pub struct FaultState {
    rng: Mutex<Rng>,
    bursts: Mutex<HashMap<String, (u16, u32)>>,
    storm: Mutex<u32>,
    api_requests: AtomicU64,
    trapped: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl FaultState {
    pub fn new(seed: u64) -> FaultState {
        FaultState {
            rng: Mutex::new(Rng::with_seed(seed ^ 0xF00D_F00D)),
            bursts: Mutex::new(HashMap::new()),
            storm: Mutex::new(0),
            api_requests: AtomicU64::new(0),
            trapped: Mutex::new(HashSet::new()),
        }
    }

    /// Count one API request and decide its faults.
    pub fn plan(&self, specs: &[FaultSpec], path: &str) -> Plan {
        let n = self.api_requests.fetch_add(1, Ordering::SeqCst) + 1;
        let mut plan = Plan::default();
        for s in specs {
            if s.kind == FaultKind::UnauthorizedAfter && (n as f64) > s.rate {
                plan.pre = Some(PreFault::Unauthorized);
                return plan;
            }
        }
        {
            let mut b = lock(&self.bursts);
            if let Some((status, left)) = b.get_mut(path)
                && *left > 0
            {
                *left -= 1;
                plan.pre = Some(PreFault::Status(*status));
                return plan;
            }
        }
        {
            let mut st = lock(&self.storm);
            if *st > 0 {
                *st -= 1;
                plan.pre = Some(PreFault::Storm429);
                return plan;
            }
        }
        if specs.is_empty() {
            return plan;
        }
        let mut rng = lock(&self.rng);
        for s in specs {
            if s.kind == FaultKind::UnauthorizedAfter || rng.f64() >= s.rate {
                continue;
            }
            match s.kind {
                FaultKind::E500 | FaultKind::E502 | FaultKind::E503 => {
                    if plan.pre.is_none() {
                        let status = match s.kind {
                            FaultKind::E500 => 500,
                            FaultKind::E502 => 502,
                            _ => 503,
                        };
                        lock(&self.bursts).insert(path.to_string(), (status, rng.u32(1..=3)));
                        plan.pre = Some(PreFault::Status(status));
                    }
                }
                FaultKind::Storm429 => {
                    if plan.pre.is_none() {
                        *lock(&self.storm) = rng.u32(2..=5);
                        plan.pre = Some(PreFault::Storm429);
                    }
                }
                FaultKind::Reset => plan.reset = true,
                FaultKind::Truncate => plan.truncate = true,
                FaultKind::Slow => plan.slow = true,
                FaultKind::RepeatCursor => plan.repeat_cursor = true,
                FaultKind::OddRecord => plan.odd_record = true,
                FaultKind::UnauthorizedAfter => {}
            }
        }
        plan
    }

    /// Restart the request count of `unauthorized-after` (done when faults are set at
    /// run time, so "after N requests" counts from that moment).
    pub fn restart_count(&self) {
        self.api_requests.store(0, Ordering::SeqCst);
    }

    /// A cursor once caught in the loop trap stays caught.
    pub fn trap(&self, cursor: &str) {
        lock(&self.trapped).insert(cursor.to_string());
    }

    pub fn is_trapped(&self, cursor: &str) -> bool {
        lock(&self.trapped).contains(cursor)
    }

    pub fn pick(&self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            lock(&self.rng).usize(..n)
        }
    }
}

const KEEP: &[&str] = &[
    "id",
    "legacy_id",
    "slug",
    "code",
    "location_id",
    "store",
    "order_id",
    "created_at",
    "updated_at",
];

/// A copy of a record with odd but legal values: unicode, empty strings (never in date
/// or time fields such as `effective_time`), very long strings and nulls in optional
/// fields. Keys and timestamps stay.
pub fn odd_version(v: &Value) -> Value {
    let mut out = v.clone();
    if let Value::Object(map) = &mut out {
        for (i, (k, val)) in map.iter_mut().enumerate() {
            if KEEP.contains(&k.as_str())
                || k.ends_with("_at")
                || k.ends_with("_time")
                || k.ends_with("date")
            {
                continue;
            }
            match (i % 4, &val) {
                (0, Value::String(_)) => {
                    *val = Value::from("Ünïcödé ✓ 😀 测试 עברית \u{200b}\"quoted\" \\ back/slash")
                }
                (1, Value::String(_)) => *val = Value::from(""),
                (2, Value::String(_)) => *val = Value::from("x".repeat(10_000)),
                // strings stay strings; other optional values become null
                (3, Value::String(_)) => *val = Value::from("ok ✓"),
                (3, _) => *val = Value::Null,
                _ => {}
            }
        }
    }
    out
}
