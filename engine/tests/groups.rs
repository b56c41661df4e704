//! Group keys against a reference written from the definitions: each row's
//! group is its values of the `--by` dimensions, a dimension reached through
//! a relation takes the related row's value, and a row without one (its key
//! null, or not a parent key) is in the null group of that dimension. The
//! groups come out sorted by value, nulls last, each with every metric.
//!
//! Tickets and calls are drawn small and in any order, so that the calls'
//! ticket keys are found in the tickets' dictionary in order, out of
//! order, or not at all; the dimensions mix a table's own column (`agent`), columns of the
//! parent (`channel`, `team`), and a time dimension (`hour`).

mod common;

use std::collections::BTreeMap;

use kpi_engine::{PeriodKind, Project, Query};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

#[derive(Clone, Debug)]
struct Ticket {
    channel: &'static str,
    team: Option<&'static str>,
    agent: Option<&'static str>,
    hour: u32,
}

/// Which ticket a call is about.
#[derive(Clone, Debug)]
enum Parent {
    Ticket(usize),
    Missing,
    Null,
}

#[derive(Clone, Debug)]
struct Call {
    ticket: Parent,
    agent: Option<&'static str>,
    hour: u32,
}

fn ticket() -> impl Strategy<Value = Ticket> {
    (
        prop::sample::select(vec!["chat", "email", "phone"]),
        prop::option::of(prop::sample::select(vec!["billing", "tech"])),
        prop::option::of(prop::sample::select(vec!["a1", "a2", "a3"])),
        0..3u32,
    )
        .prop_map(|(channel, team, agent, hour)| Ticket {
            channel,
            team,
            agent,
            hour,
        })
}

fn call(tickets: usize) -> impl Strategy<Value = Call> {
    (
        prop_oneof![
            6 => (0..tickets).prop_map(Parent::Ticket),
            1 => Just(Parent::Missing),
            1 => Just(Parent::Null),
        ],
        prop::option::of(prop::sample::select(vec!["a1", "a2", "a4"])),
        0..3u32,
    )
        .prop_map(|(ticket, agent, hour)| Call {
            ticket,
            agent,
            hour,
        })
}

fn data() -> impl Strategy<Value = (Vec<Ticket>, Vec<usize>, Vec<Call>)> {
    prop::collection::vec(ticket(), 1..12).prop_flat_map(|tickets| {
        let n = tickets.len();
        (
            Just(tickets),
            // The tickets' row order (their ids stay t00..).
            Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            prop::collection::vec(call(n), 1..30),
        )
    })
}

type Group = Vec<Option<String>>;

/// A ticket's or a call's value of a dimension.
fn ticket_value(t: &Ticket, dim: &str) -> Option<String> {
    match dim {
        "channel" => Some(t.channel.to_string()),
        "team" => t.team.map(str::to_string),
        "agent" => t.agent.map(str::to_string),
        "hour" => Some(format!("{:02}", t.hour)),
        _ => unreachable!(),
    }
}

fn call_value(m: &Call, tickets: &[Ticket], dim: &str) -> Option<String> {
    match dim {
        "agent" => m.agent.map(str::to_string),
        "hour" => Some(format!("{:02}", m.hour)),
        _ => match m.ticket {
            Parent::Ticket(i) => ticket_value(&tickets[i], dim),
            Parent::Missing | Parent::Null => None,
        },
    }
}

/// Values ascending, a null after every value.
fn sort_key(g: &Group) -> Vec<(bool, Option<String>)> {
    g.iter().map(|v| (v.is_none(), v.clone())).collect()
}

fn check(tickets: &[Ticket], order: &[usize], calls: &[Call]) {
    let mut tickets_csv = String::from("id,created_at,channel,team,agent_id\n");
    for &i in order {
        let t = &tickets[i];
        tickets_csv.push_str(&format!(
            "t{i:02},2026-01-02 {:02}:00,{},{},{}\n",
            t.hour,
            t.channel,
            t.team.unwrap_or(""),
            t.agent.unwrap_or("")
        ));
    }
    let mut calls_csv = String::from("id,ticket_id,agent_id,queued_at\n");
    for (j, m) in calls.iter().enumerate() {
        let ticket = match m.ticket {
            Parent::Ticket(i) => format!("t{i:02}"),
            Parent::Missing => "t99".to_string(),
            Parent::Null => String::new(),
        };
        calls_csv.push_str(&format!(
            "k{j},{ticket},{},2026-01-02 {:02}:30\n",
            m.agent.unwrap_or(""),
            m.hour
        ));
    }
    let dir = common::temp_project(
        "groups",
        &[
            (
                "kpi.toml",
                "[project]\ntimezone = \"UTC\"\ndefinitions = [\"kpis\"]\nbuiltins = false\n\
             [tables.tickets]\nsource = \"data/tickets.csv\"\n\
             [tables.calls]\nsource = \"data/calls.csv\"\n"
                    .to_string(),
            ),
            (
                "kpis/k.toml",
                "[metric.t]\nformula = 'count(tickets)'\n[metric.m]\nformula = 'count(calls)'\n"
                    .to_string(),
            ),
            ("data/tickets.csv", tickets_csv),
            ("data/calls.csv", calls_csv),
        ],
    );
    let project = Project::load(&dir).expect("project loads");
    for by in [
        &["channel"][..],
        &["team", "channel"],
        &["agent"],
        &["agent", "channel"],
        &["team", "hour"],
        &["hour", "agent", "team"],
    ] {
        for threads in [1, 2] {
            let mut want: BTreeMap<Group, (u64, u64)> = BTreeMap::new();
            for t in tickets {
                let g = by.iter().map(|d| ticket_value(t, d)).collect();
                want.entry(g).or_default().0 += 1;
            }
            for m in calls {
                let g = by.iter().map(|d| call_value(m, tickets, d)).collect();
                want.entry(g).or_default().1 += 1;
            }
            let mut want: Vec<(Group, (u64, u64))> = want.into_iter().collect();
            want.sort_by_key(|(g, _)| sort_key(g));
            let result = project
                .run(&Query {
                    metrics: vec!["t".into(), "m".into()],
                    by: by.iter().map(|d| d.to_string()).collect(),
                    period: PeriodKind::All,
                    threads,
                    ..Query::default()
                })
                .expect("runs");
            for (k, metric) in ["t", "m"].iter().enumerate() {
                let got: Vec<(Group, String)> = result
                    .rows
                    .iter()
                    .filter(|r| &*r.metric == *metric)
                    .map(|r| {
                        let value = r
                            .value
                            .as_ref()
                            .map_or("null".to_string(), |v| v.to_string());
                        (r.group.to_vec(), value)
                    })
                    .collect();
                let expected: Vec<(Group, String)> = want
                    .iter()
                    .map(|(g, n)| (g.clone(), [n.0, n.1][k].to_string()))
                    .collect();
                assert_eq!(got, expected, "{metric} by {by:?}, {threads} threads");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

proptest! {
    #![proptest_config(Config {
        cases: 48,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    })]

    #[test]
    fn groups_are_the_values_of_each_row_or_its_parent((tickets, order, calls) in data()) {
        check(&tickets, &order, &calls);
    }
}

#[test]
fn calls_without_a_ticket_are_in_the_null_group_of_each_parent_dimension() {
    let tickets = [
        Ticket {
            channel: "chat",
            team: Some("tech"),
            agent: Some("a1"),
            hour: 1,
        },
        Ticket {
            channel: "email",
            team: None,
            agent: None,
            hour: 2,
        },
    ];
    let calls = [
        Call {
            ticket: Parent::Ticket(1),
            agent: Some("a2"),
            hour: 0,
        },
        Call {
            ticket: Parent::Missing,
            agent: None,
            hour: 1,
        },
        Call {
            ticket: Parent::Null,
            agent: Some("a1"),
            hour: 2,
        },
        Call {
            ticket: Parent::Ticket(0),
            agent: Some("a1"),
            hour: 2,
        },
    ];
    check(&tickets, &[1, 0], &calls);
    check(&tickets, &[0, 1], &calls);
}
