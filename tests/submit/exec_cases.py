"""Submit descriptions of the execution keys (issue 13: getenv, file transfer, lifecycle policy),
merged into submit_cases.CASES; same directory layout and environment."""

EXEC_CASES = {
    "getenv_list": "executable = job.sh\ngetenv = CONDORSIM_SUBMIT_*\nqueue\n",
    "getenv_list_env_wins": ('executable = job.sh\ngetenv = condorsim_submit_test, NOT_SET_ANYWHERE\n'
                             'environment = "CONDORSIM_SUBMIT_TEST=mine Z=1 A=2"\nqueue\n'),
    "getenv_false_v1_env": "executable = job.sh\ngetenv = false\nenvironment = Z=1;A=2\nqueue\n",
    "transfer_inputs": ("executable = job.sh\nshould_transfer_files = YES\n"
                        "transfer_input_files = sub/a.dat, sub/ ,rows.txt\nqueue\n"),
    "transfer_inputs_if_needed": "executable = job.sh\ntransfer_input_files = rows.txt\nqueue\n",
    "transfer_outputs_remaps": ('executable = job.sh\nshould_transfer_files = YES\n'
                                'transfer_output_files = out.txt, res\n'
                                'transfer_output_remaps = "out.txt = results/out.$(Process).txt; res=r2"\nqueue 2\n'),
    "transfer_no_executable": ("executable = job.sh\nshould_transfer_files = YES\ntransfer_executable = false\n"
                               "queue\n"),
    "transfer_on_exit_or_evict": "executable = job.sh\nwhen_to_transfer_output = ON_EXIT_OR_EVICT\nqueue\n",
    "transfer_stdio_stream": ("executable = job.sh\ninput = rows.txt\noutput = o.txt\nerror = e.txt\n"
                              "stream_output = true\nstream_error = True\nshould_transfer_files = YES\nqueue\n"),
    "transfer_initialdir": ("executable = job.sh\ninitialdir = sub\nshould_transfer_files = IF_NEEDED\n"
                            "transfer_input_files = a.dat,b.dat\noutput = out\nqueue\n"),
    "transfer_output_empty": ('executable = job.sh\nshould_transfer_files = YES\ntransfer_output_files = ""\n'
                              "queue\n"),
    "retry_max": "executable = job.sh\nmax_retries = 2\nqueue\n",
    "retry_success_code": "executable = job.sh\nmax_retries = 3\nsuccess_exit_code = 3\nqueue\n",
    "retry_until_expr": "executable = job.sh\nretry_until = ExitCode == 5\nqueue\n",
    "retry_until_number": "executable = job.sh\nmax_retries = 4\nretry_until = 7\nqueue\n",
    "on_exit_hold_reason": ('executable = job.sh\non_exit_hold = ExitCode != 0\non_exit_hold_reason = "bad exit"\n'
                            "on_exit_hold_subcode = 42\nqueue\n"),
    "on_exit_remove_expr": "executable = job.sh\non_exit_remove = ExitCode == 0 || NumJobStarts > 3\nqueue\n",
    "vacate_policy": "executable = job.sh\nperiodic_vacate = JobStatus == 2\njob_max_vacate_time = 7\nqueue\n",
    "durations": "executable = job.sh\nallowed_execute_duration = 50\nallowed_job_duration = 100\nqueue\n",
    "gpus": "executable = job.sh\nrequest_gpus = 1\nqueue\n",
    "gpus_zero": "executable = job.sh\nrequest_gpus = 0\nqueue\n",
    "accounting_group_user": "executable = job.sh\naccounting_group = grp\naccounting_group_user = bob\nqueue\n",
    "accounting_group_only": "executable = job.sh\naccounting_group = group_physics.lab\nqueue\n",
    "nice_user": "executable = job.sh\nnice_user = true\nqueue\n",
    "leave_in_queue": "executable = job.sh\nleave_in_queue = JobStatus == 4 && (CompletionDate =?= UNDEFINED)\nqueue\n",
    "concurrency": "executable = job.sh\nconcurrency_limits = foo, BAR:2\nqueue\n",
    "getenv_patterns": "executable = job.sh\ngetenv = NOPE_*, condorsim_*\nqueue\n",
    "transfer_output_dirs": ("executable = job.sh\nshould_transfer_files = YES\n"
                             "transfer_output_files = results/, log.txt\nqueue\n"),
    "transfer_executable_true": ("executable = job.sh\nshould_transfer_files = YES\ntransfer_executable = true\n"
                                 "transfer_input_files = rows.txt\nwhen_to_transfer_output = ON_EXIT\nqueue\n"),
    "stream_error_only": "executable = job.sh\nerror = e.txt\nstream_error = true\nstream_output = true\nqueue\n",
    "transfer_input_macro": ("executable = job.sh\nshould_transfer_files = YES\nname = a\n"
                             "transfer_input_files = sub/$(name).dat\nqueue\n"),
    "retry_until_with_success": ("executable = job.sh\nmax_retries = 1\nsuccess_exit_code = 2\n"
                                 "retry_until = ExitCode > 100\nqueue\n"),
    "on_exit_hold_only": "executable = job.sh\non_exit_hold = ExitBySignal\nqueue\n",
    "durations_expr": "executable = job.sh\nallowed_job_duration = 3600 * 2\njob_max_vacate_time = 60 * 2\nqueue\n",
    "gpus_with_requirements": "executable = job.sh\nrequest_gpus = 2\nrequirements = Cpus > 1\nqueue\n",
    "nice_user_and_group": "executable = job.sh\nnice_user = true\naccounting_group = grp\nqueue\n",
    "concurrency_single": "executable = job.sh\nconcurrency_limits = LIC\nqueue\n",
    "leave_in_queue_true": "executable = job.sh\nleave_in_queue = True\nqueue\n",
    "lifecycle_everything": ("executable = job.sh\nshould_transfer_files = YES\ntransfer_input_files = rows.txt\n"
                             "output = o\nerror = e\nmax_retries = 3\nrequest_gpus = 1\n"
                             "accounting_group = grp\naccounting_group_user = alice\nleave_in_queue = false\n"
                             "allowed_execute_duration = 10\nqueue 2\n"),
    "periodic_vacate_only": "executable = job.sh\nperiodic_vacate = (time() - EnteredCurrentStatus) > 60\nqueue\n",
    "max_idle": "executable = job.sh\nmax_idle = 3\nqueue 4\n",
}
