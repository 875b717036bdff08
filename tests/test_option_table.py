"""The README's table of every option of the man pages issue 14 names (tests/data/man_options.json,
made by make_man_options.py): each option is implemented -- and then names the test that shows
it -- or not, with the reason.  The test checks the claims and that README.md holds the table
exactly as generated here, between its markers (rerun with CONDORSIM_WRITE_README=1 to update).
"""
import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
BEGIN, END = "<!-- option-table:begin -->", "<!-- option-table:end -->"

SUBMIT = "tests/submit/test_condor_submit.py::"
Q_UNIT = "tests/tools/test_condor_q.py::"
Q_LIVE = "tests/pool/test_condor_q_live.py::"
Q_OLD = "tests/pool/test_tools_live.py::"
STATUS = "tests/tools/test_condor_status.py::"
STATUS_LIVE = "tests/pool/test_status_views_live.py::"
DAEMON_TOOLS = "tests/pool/test_who_version_config_live.py::"
CONFIG = "tests/config/test_condor_config_val.py::"
DRAIN = "tests/tools/test_condor_drain.py::"
DRAIN_LIVE = "tests/pool/test_partitionable.py::"
NO_DEBUG = "no tool writes a debug log; the daemons' logs hold what happens"
ONE_POOL = "condorsim finds its pool through the local configuration; no other pool is addressed"
PING = "tests/security/test_policy.py::"
GRID = "grid/EC2 jobs belong to another branch of issue 14's work (the ec2 spec)"
NO_PRINT_FORMAT = "condor_who reads no print-format file (condor_q and condor_status do)"
PRINT_FORMAT = "tests/tools/test_print_format.py::"
PRIO = "tests/tools/test_condor_userprio.py::"
PRIO_LIVE = "tests/pool/test_userprio_live.py::test_userprio_shows_usage_and_edits_reach_the_negotiator"
TAIL = "tests/tools/test_condor_tail.py::"
TAIL_LIVE = "tests/pool/test_tail_live.py::test_tail_prints_the_end_of_a_running_jobs_files"
NO_GROUPS = "accounting groups have no quotas or hierarchy in condorsim, so there is nothing group-wise to show"
NO_LIMITS = "the accountant keeps no submitter ceilings, floors or leases (the negotiator enforces none)"

# tool -> option -> ("yes", "test path::test name") or ("no", reason)
OPTIONS = {
    "condor_submit": {
        "-terse": ("yes", SUBMIT + "test_terse"),
        "-verbose": ("yes", SUBMIT + "test_verbose_prints_each_ad_one_attribute_a_line"),
        "-unused": ("yes", SUBMIT + "test_misspelled_key_warns_as_htcondor_and_still_queues"),
        "-file": ("yes", SUBMIT + "test_queue_option_batch_name_and_file"),
        "-name": ("yes", SUBMIT + "test_name_picks_the_schedd"),
        "-remote": ("no", ONE_POOL),
        "-addr": ("no", "the schedd is found by name or address file; a sinful cannot be given"),
        "-pool": ("no", ONE_POOL),
        "-disable": ("no", "condor_submit does no file permission checks to disable"),
        "-debug": ("no", NO_DEBUG),
        "-append": ("yes", "tests/submit/test_submit.py::test_append_lines_go_before_the_first_queue"),
        "-batch-name": ("yes", SUBMIT + "test_queue_option_batch_name_and_file"),
        "-spool": ("yes", SUBMIT + "test_help_and_spool"),
        "-dump": ("no", "-dry-run writes the same attributes; -dump's ClassAd file is not written"),
        "-interactive": ("no", "interactive jobs need condor_ssh_to_job, which condorsim lacks"),
        "-factory": ("no", "late materialization (max_materialize) is issue 13's"),
        "-allow-crlf-script": ("no", "scripts are not checked for DOS line endings"),
        "-dry-run": ("yes", SUBMIT + "test_dry_run_writes_the_attributes_and_queues_nothing"),
        "-maxjobs": ("yes", SUBMIT + "test_maxjobs"),
        "-single-cluster": ("yes", SUBMIT + "test_maxjobs"),
        "-queue": ("yes", SUBMIT + "test_queue_option_batch_name_and_file"),
    },
    "condor_q": {
        "-debug": ("no", NO_DEBUG),
        "-batch": ("yes", Q_UNIT + "test_batch_view_matches_spec_example"),
        "-nobatch": ("yes", Q_UNIT + "test_nobatch_view"),
        "-global": ("yes", Q_LIVE + "test_global_submitter_and_userlog"),
        "-submitter": ("yes", Q_LIVE + "test_global_submitter_and_userlog"),
        "-name": ("yes", Q_UNIT + "test_more_options_parse"),
        "-pool": ("no", ONE_POOL),
        "-jobads": ("no", "job ads are read from a schedd or an event log, not from a file of ads"),
        "-userlog": ("yes", Q_LIVE + "test_global_submitter_and_userlog"),
        "-factory": ("no", "late materialization (job factories) is issue 13's"),
        "-jobset": ("no", "condorsim has no job sets"),
        "-autocluster": ("yes", Q_LIVE + "test_idle_hold_codes_autocluster_io_cputime"),
        "-cputime": ("yes", Q_LIVE + "test_idle_hold_codes_autocluster_io_cputime"),
        "-currentrun": ("yes", Q_UNIT + "test_more_options_parse"),
        "-cumulative-time": ("yes", Q_UNIT + "test_more_options_parse"),
        "-dag": ("no", "condorsim has no DAGMan"),
        "-expert": ("no", "no expert-only output exists to switch on"),
        "-grid": ("no", GRID),
        "-help": ("yes", Q_UNIT + "test_more_options_parse"),
        "-hold": ("yes", Q_LIVE + "test_status_views_restrict_ad_output_in_any_order"),
        "-hold-codes": ("yes", Q_LIVE + "test_idle_hold_codes_autocluster_io_cputime"),
        "-limit": ("yes", Q_LIVE + "test_unmatchable_totals_limit_and_version"),
        "-io": ("yes", Q_LIVE + "test_idle_hold_codes_autocluster_io_cputime"),
        "-long": ("yes", Q_OLD + "test_queue_long_has_server_time_and_status"),
        "-idle": ("yes", Q_LIVE + "test_idle_hold_codes_autocluster_io_cputime"),
        "-run": ("yes", Q_LIVE + "test_status_views_restrict_ad_output_in_any_order"),
        "-stream-results": ("no", "results come in one reply; nothing to stream"),
        "-totals": ("yes", Q_LIVE + "test_unmatchable_totals_limit_and_version"),
        "-version": ("yes", Q_LIVE + "test_unmatchable_totals_limit_and_version"),
        "-wide": ("yes", Q_UNIT + "test_more_options_parse"),
        "-xml": ("no", "no ClassAd XML writer"),
        "-json": ("yes", Q_OLD + "test_queue_json"),
        "-attributes": ("yes", Q_LIVE + "test_status_views_restrict_ad_output_in_any_order"),
        "-autoformat": ("yes", Q_OLD + "test_queue_autoformat_and_constraint"),
        "-aaf": ("no", "the -af variant with attribute headings is not implemented"),
        "-format": ("yes", "tests/tools/test_columns.py::test_format_items_conversions_and_dropped_items"),
        "-print-format": ("yes", PRINT_FORMAT + "test_condor_q_print_format_file_columns_order_and_summary"),
        "-analyze": ("yes", Q_LIVE + "test_analyze_explains_only_rejected_jobs"),
        "-better-analyze": ("yes", Q_LIVE + "test_better_analyze_names_the_memory_clause_and_the_slots_it_rejects"),
        "-machine": ("yes", Q_LIVE + "test_reverse_analysis_of_one_slot"),
        "-mconstraint": ("no", "slots for analysis are chosen with -machine only"),
        "-slotads": ("no", "slot ads come from the collector, not from a file"),
        "-userprios": ("no", "the analysis ignores user priorities (as HTCondor does by default)"),
        "-nouserprios": ("no", "the analysis always ignores user priorities, so there is nothing to turn off"),
        "-reverse-analyze": ("yes", Q_UNIT + "test_more_options_parse"),
        "-verbose": ("no", "no progress or verbose analysis output"),
    },
    "condor_status": {
        "-help": ("yes", "tests/tools/test_small_tools.py::test_help"),
        "-any": ("yes", STATUS + "test_any_view_shows_types"),
        "-collector": ("yes", Q_OLD + "test_status_daemon_views"),
        "-master": ("yes", STATUS + "test_master_view_version_memory_uptime"),
        "-negotiator": ("yes", Q_OLD + "test_status_daemon_views"),
        "-schedd": ("yes", STATUS + "test_schedd_view_and_totals"),
        "-startd": ("yes", Q_OLD + "test_status_long_slot_ads_carry_the_spec_attributes"),
        "-submitters": ("yes", STATUS + "test_submitters_view_totals_keyed_by_name"),
        "-attributes": ("yes", STATUS + "test_long_sorted_attributes_blank_line_after_each"),
        "-long": ("yes", STATUS + "test_long_sorted_attributes_blank_line_after_each"),
        "-sort": ("yes", STATUS + "test_sort_expression_replaces_default_order"),
        "-json": ("yes", STATUS + "test_json_output_is_array_of_ads"),
        "-constraint": ("yes", Q_OLD + "test_status_constraint_restricts_rows_and_totals"),
        "-autoformat": ("yes", STATUS + "test_autoformat_and_format_through_the_command_line"),
        "-format": ("yes", STATUS + "test_autoformat_and_format_through_the_command_line"),
        "-debug": ("no", NO_DEBUG),
        "-pool": ("no", ONE_POOL),
        "-diagnose": ("no", "no query diagnostics are printed"),
        "-absent": ("no", "the collector keeps no absent ads"),
        "-ads": ("no", "ads come from the collector, not from a file"),
        "-annex": ("no", "condorsim has no annexes"),
        "-cod": ("no", "condorsim has no computing-on-demand claims"),
        "-defrag": ("no", "condorsim has no condor_defrag daemon"),
        "-grid": ("no", GRID),
        "-java": ("no", "slots advertise no Java support"),
        "-license": ("no", "no license ads"),
        "-broken": ("no", "slots advertise no broken resources"),
        "-healthy": ("no", "slots advertise no health checks"),
        "-lvm": ("no", "no LVM-backed scratch space"),
        "-snapshot": ("no", "the startd has no snapshot query"),
        "-statistics": ("no", "daemons publish no statistics attributes"),
        "-storage": ("no", "no storage ads"),
        "-subsystem": ("no", "ads are chosen with the ad-type options only"),
        "-vm": ("no", "condorsim has no VM universe"),
        "-offline": ("no", "the collector keeps no offline ads"),
        "-expert": ("no", "no expert-only output exists to switch on"),
        "-limit": ("yes", STATUS + "test_limit_keeps_the_first_ads_found"),
        "-totals": ("yes", STATUS + "test_totals_spelling_and_wide_totals_fit_the_keys"),
        "-xml": ("no", "no ClassAd XML writer"),
        "-aaf": ("no", "the -af variant with attribute headings is not implemented"),
        "-print-format": ("yes", PRINT_FORMAT + "test_condor_status_print_format_file_columns_order_and_totals"),
        "-target": ("no", "ads come from the collector, not from a file"),
        "-merge": ("no", "ads come from the collector, not from a file"),
        "-avail": ("yes", STATUS + "test_avail_shows_the_default_columns_and_totals"),
        "-claimed": ("yes", STATUS + "test_claimed_view_user_client_and_run_totals"),
        "-direct": ("yes", STATUS_LIVE + "test_slot_views_with_a_running_job"),
        "-run": ("yes", STATUS + "test_bare_run_shows_schedds_running_jobs"),
        "-server": ("yes", STATUS + "test_server_view_resources_and_totals"),
        "-state": ("yes", STATUS + "test_state_view_times_and_totals_by_activity"),
        "-compact": ("yes", STATUS + "test_compact_folds_a_machines_static_slots_into_one_row"),
    },
    "condor_drain": {
        "-graceful": ("yes", DRAIN + "test_options_and_their_values"),
        "-quick": ("yes", DRAIN + "test_options_and_their_values"),
        "-fast": ("yes", DRAIN_LIVE + "test_condor_drain_empties_a_startd_and_cancel_resumes_it"),
        "-help": ("yes", DRAIN + "test_errors_as_htcondor_prints_them"),
        "-debug": ("yes", DRAIN + "test_options_and_their_values"),
        "-verbose": ("yes", DRAIN + "test_options_and_their_values"),
        "-pool": ("no", ONE_POOL),
        "-reason": ("yes", DRAIN_LIVE + "test_condor_drain_empties_a_startd_and_cancel_resumes_it"),
        "-resume-on-completion": ("yes", DRAIN + "test_options_and_their_values"),
        "-restart-on-completion": ("yes", DRAIN + "test_options_and_their_values"),
        "-reconfig-on-completion": ("yes", DRAIN + "test_options_and_their_values"),
        "-exit-on-completion": ("yes", DRAIN_LIVE + "test_drain_exit_on_completion_stops_the_startd_for_good"),
        "-check": ("yes", DRAIN + "test_options_and_their_values"),
        "-start": ("yes", DRAIN + "test_options_and_their_values"),
        "-cancel": ("yes", DRAIN_LIVE + "test_condor_drain_empties_a_startd_and_cancel_resumes_it"),
        "-request-id": ("yes", DRAIN + "test_options_and_their_values"),
    },
    "condor_version": {
        "-help": ("yes", "tests/tools/test_small_tools.py::test_condor_version_options"),
        "-arch": ("yes", "tests/tools/test_small_tools.py::test_condor_version_options"),
        "-opsys": ("yes", "tests/tools/test_small_tools.py::test_condor_version_options"),
    },
    "condor_who": {
        "-help": ("yes", "tests/tools/test_small_tools.py::test_condor_who_usage"),
        "-quickdaemons": ("yes", "tests/tools/test_small_tools.py::test_condor_who_quick_without_a_master"),
        "-wait-for-ready": ("yes", DAEMON_TOOLS + "test_condor_who_waits_for_the_daemons"),
        "-long": ("yes", DAEMON_TOOLS + "test_condor_who_long_lists_the_slots_running_jobs"),
        "-daemons": ("no", "daemon pids and addresses are not listed; -quick shows the readiness ad"),
        "-diagnostic": ("no", NO_DEBUG),
        "-verbose": ("no", "no verbose output"),
        "-address": ("no", "the daemons are found through the local configuration"),
        "-allpids": ("no", "the daemons are found through the local configuration, not by scanning processes"),
        "-logdir": ("no", "the daemons are found through the local configuration, not their log directory"),
        "-pid": ("no", "the daemons are found through the local configuration, not by pid"),
        "-jobs": ("no", "the startd is not asked for its job ads"),
        "-startd": ("no", "the startd's own ad is not shown"),
        "-constraint": ("no", "the slot list cannot be filtered yet"),
        "-limit": ("no", "the slot list cannot be limited yet"),
        "-snapshot": ("no", "the startd has no snapshot query"),
        "-statistics": ("no", "daemons publish no statistics attributes"),
        "-wide": ("no", "the table is never cut to the screen"),
        "-format": ("no", "custom output for condor_who is not implemented"),
        "-autoformat": ("no", "custom output for condor_who is not implemented"),
        "-aaf": ("no", "custom output for condor_who is not implemented"),
        "-print-format": ("no", NO_PRINT_FORMAT),
        "-banner-format": ("no", NO_PRINT_FORMAT),
        "-ospool": ("no", "OSPool glidein layouts are out of scope"),
    },
    "condor_config_val": {
        "-help": ("yes", "tests/tools/test_small_tools.py::test_help"),
        "-version": ("no", "prints no version; condor_version does"),
        "-set": ("yes", DAEMON_TOOLS + "test_config_val_set_is_persistent"),
        "-unset": ("yes", DAEMON_TOOLS + "test_config_val_unset_runset_and_other_daemons"),
        "-rset": ("yes", DAEMON_TOOLS + "test_config_val_asks_a_running_daemon_and_sets_runtime_config"),
        "-runset": ("yes", DAEMON_TOOLS + "test_config_val_unset_runset_and_other_daemons"),
        "-summary": ("yes", DAEMON_TOOLS + "test_config_val_summary"),
        "-dump": ("yes", CONFIG + "test_dump_with_pattern"),
        "-default": ("yes", CONFIG + "test_raw_and_default"),
        "-expand": ("no", "-expanded (with -dump) is accepted; the -expand spelling is not"),
        "-raw": ("yes", CONFIG + "test_raw_and_default"),
        "-verbose": ("yes", CONFIG + "test_verbose"),
        "-trace": ("no", "macro expansion is not traced"),
        "-debug": ("no", NO_DEBUG),
        "-evaluate": ("yes", DAEMON_TOOLS + "test_config_val_evaluate_against_the_daemon_ad"),
        "-used": ("no", "the config does not count which names were used"),
        "-unused": ("no", "the config does not count which names were used"),
        "-config": ("yes", CONFIG + "test_config_lists_files_in_order"),
        "-writeconfig": ("no", "-summary prints the changed settings; no config file is written"),
        "-macro": ("no", "arbitrary macro text is not expanded on request"),
        "-mixedcase": ("no", "names are printed as the config spells them already"),
        "-local-name": ("yes", CONFIG + "test_local_name_and_subsystem_views"),
        "-subsystem": ("yes", CONFIG + "test_local_name_and_subsystem_views"),
        "-address": ("no", "daemons are found by type and -name, not by sinful"),
        "-pool": ("no", ONE_POOL),
        "-name": ("yes", DAEMON_TOOLS + "test_config_val_asks_a_running_daemon_and_sets_runtime_config"),
        "-master": ("yes", DAEMON_TOOLS + "test_config_val_set_is_persistent"),
        "-schedd": ("yes", DAEMON_TOOLS + "test_config_val_asks_a_running_daemon_and_sets_runtime_config"),
        "-startd": ("yes", DAEMON_TOOLS + "test_config_val_asks_a_running_daemon_and_sets_runtime_config"),
        "-collector": ("yes", DAEMON_TOOLS + "test_config_val_unset_runset_and_other_daemons"),
        "-negotiator": ("yes", DAEMON_TOOLS + "test_config_val_unset_runset_and_other_daemons"),
        "-root-config": ("yes", CONFIG + "test_root_config_overrides_condor_config"),
    },
}
OPTIONS["condor_ping"] = {
    "-help": ("yes", PING + "test_condor_ping_output_modes_targets_and_tokens"),
    "-version": ("yes", PING + "test_condor_ping_output_modes_targets_and_tokens"),
    "-debug": ("no", NO_DEBUG),
    "-config": ("no", "the configuration is the pool's; no extra file is read"),
    "-address": ("yes", PING + "test_condor_ping_output_modes_targets_and_tokens"),
    "-pool": ("no", ONE_POOL),
    "-name": ("yes", PING + "test_condor_ping_output_modes_targets_and_tokens"),
    "-type": ("yes", PING + "test_condor_ping_output_modes_targets_and_tokens"),
    "-quiet": ("yes", PING + "test_condor_ping_output_modes_targets_and_tokens"),
    "-table": ("yes", PING + "test_security_strong_and_allow_write_change_who_may_do_what"),
    "-verbose": ("yes", PING + "test_condor_ping_output_modes_targets_and_tokens"),
    "-long": ("no", "no policy ad is kept per session to print"),
    "-format": ("no", "no policy ad is kept per session to print"),
    "-autoformat": ("no", "no policy ad is kept per session to print"),
}
OPTIONS["condor_userprio"] = {
    "-debug": ("no", NO_DEBUG),
    "-help": ("yes", PRIO + "test_edit_errors_and_usage"),
    "-inputfile": ("yes", PRIO + "test_inputfile_and_activefrom"),
    "-name": ("yes", PRIO_LIVE),
    "-pool": ("no", ONE_POOL),
    "-delete": ("yes", PRIO_LIVE),
    "-resetall": ("yes", PRIO + "test_accountant_decays_priority_accumulates_usage_and_persists"),
    "-resetusage": ("yes", PRIO_LIVE),
    "-setaccum": ("yes", PRIO + "test_edit_errors_and_usage"),
    "-setbegin": ("yes", PRIO + "test_edit_errors_and_usage"),
    "-setlast": ("yes", PRIO + "test_edit_errors_and_usage"),
    "-setfactor": ("yes", PRIO_LIVE),
    "-setprio": ("yes", PRIO_LIVE),
    "-setceiling": ("no", NO_LIMITS),
    "-duration": ("no", NO_LIMITS),
    "-cancelceilinglease": ("no", NO_LIMITS),
    "-cancelfloorlease": ("no", NO_LIMITS),
    "-cancelfactorlease": ("no", NO_LIMITS),
    "-setfloor": ("no", NO_LIMITS),
    "-activefrom": ("yes", PRIO + "test_inputfile_and_activefrom"),
    "-all": ("yes", PRIO + "test_all_columns_for_all_users"),
    "-allusers": ("yes", PRIO + "test_all_columns_for_all_users"),
    "-collector": ("yes", PRIO_LIVE),
    "-negotiator": ("yes", PRIO_LIVE),
    "-af": ("yes", PRIO_LIVE),
    "-constraint": ("yes", PRIO + "test_inputfile_and_activefrom"),
    "-flat": ("no", NO_GROUPS),
    "-groupid": ("no", NO_GROUPS),
    "-getreslist": ("no", "the accountant counts a submitter's running jobs, not which slots they hold"),
    "-grouporder": ("no", NO_GROUPS),
    "-grouprollup": ("no", NO_GROUPS),
    "-hierarchical": ("no", NO_GROUPS),
    "-legacy": ("no", "-long prints one ad per submitter; the single numbered ad of old negotiators is not made"),
    "-long": ("yes", PRIO + "test_inputfile_and_activefrom"),
    "-modular": ("no", "-long prints one ad per submitter already; the -modular spelling is not taken"),
    "-order": ("no", NO_GROUPS),
    "-priority": ("yes", PRIO + "test_inputfile_and_activefrom"),
    "-most": ("yes", PRIO + "test_default_table_shows_active_submitters_best_priority_first"),
    "-quotas": ("no", NO_GROUPS),
    "-sortkey": ("no", NO_GROUPS),
    "-surplus": ("no", NO_GROUPS),
    "-usage": ("yes", PRIO + "test_inputfile_and_activefrom"),
}
OPTIONS["condor_tail"] = {
    "-help": ("yes", TAIL + "test_command_line_errors"),
    "-version": ("yes", TAIL + "test_version"),
    "-pool": ("no", ONE_POOL),
    "-name": ("yes", TAIL_LIVE),
    "-debug": ("no", NO_DEBUG),
    "-maxbytes": ("yes", TAIL_LIVE),
    "-auto-retry": ("yes", TAIL_LIVE),
    "-follow": ("yes", TAIL_LIVE),
    "-no-stdout": ("yes", TAIL_LIVE),
    "-stderr": ("yes", TAIL_LIVE),
}


def status_of(tool: str, option: str) -> tuple[str, str]:
    return OPTIONS[tool][option]


def render_table() -> str:
    man = json.loads((ROOT / "tests" / "data" / "man_options.json").read_text())
    rows = ["| tool | option | implemented | test, or why not |", "|---|---|---|---|"]
    for tool, options in man.items():
        for option in options:
            state, note = status_of(tool, option)
            note = f"`{note}`" if state == "yes" else note
            rows.append(f"| {tool} | `{option}` | {state} | {note} |")
    done = sum(1 for tool, options in man.items() for o in options if status_of(tool, o)[0] == "yes")
    total = sum(len(options) for options in man.values())
    intro = (f"{done} of the {total} options of the man pages of condor_submit, condor_q, condor_status,"
             " condor_version, condor_who, condor_ping, condor_userprio, condor_tail, condor_drain and"
             " condor_config_val are implemented, each with the test that shows it"
             " (generated by tests/test_option_table.py).")
    return "\n".join([BEGIN, "## Tool options against HTCondor's man pages", "", intro, ""] + rows + [END])


def test_every_man_page_option_has_a_status():
    man = json.loads((ROOT / "tests" / "data" / "man_options.json").read_text())
    for tool, options in man.items():
        assert set(OPTIONS[tool]) == set(options), tool


def test_every_implemented_option_names_a_test_that_exists():
    for tool, options in OPTIONS.items():
        for option, (state, note) in options.items():
            assert state in ("yes", "no"), (tool, option)
            if state == "no":
                assert note, (tool, option)
                continue
            path, _, name = note.partition("::")
            text = (ROOT / path).read_text()
            assert re.search(rf"^def {re.escape(name)}\(", text, re.M), (tool, option, note)


def test_readme_holds_the_generated_table():
    readme = ROOT / "README.md"
    text = readme.read_text()
    table = render_table()
    if os.environ.get("CONDORSIM_WRITE_README"):
        if BEGIN in text:
            text = text[:text.index(BEGIN)] + table + text[text.index(END) + len(END):]
        else:
            at = text.index("\n## Benchmarks")
            text = text[:at] + "\n" + table + "\n" + text[at:]
        readme.write_text(text)
    assert BEGIN in text and END in text, "run with CONDORSIM_WRITE_README=1 to add the table"
    assert text[text.index(BEGIN):text.index(END) + len(END)] == table
    assert text.index(END) < text.index("\n## Benchmarks")
