"""Submit descriptions of the execution keys (issue 13: getenv, file transfer, lifecycle policy),
merged into submit_cases.CASES; same directory layout and environment."""

EXEC_CASES = {
    "getenv_list": "executable = job.sh\ngetenv = CONDORSIM_SUBMIT_*\nqueue\n",
    "getenv_list_env_wins": ('executable = job.sh\ngetenv = condorsim_submit_test, NOT_SET_ANYWHERE\n'
                             'environment = "CONDORSIM_SUBMIT_TEST=mine Z=1 A=2"\nqueue\n'),
    "getenv_false_v1_env": "executable = job.sh\ngetenv = false\nenvironment = Z=1;A=2\nqueue\n",
}
