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
}
