"""Submit descriptions whose job ads are compared with HTCondor's (see make_expected.py).

Each case runs in a fresh directory holding ``job.sh`` (JOB_SCRIPT), ``sub/`` with ``a.dat``
and ``b.dat``, and ``rows.txt`` (ROWS_FILE).  The environment variable ENV_NAME is ENV_VALUE.
"""

JOB_SCRIPT = "#!/bin/sh\necho hello from a condorsim test job\n" * 40   # 1.5 KB -> size 2 KB
ROWS_FILE = "r1 x\nr2 y\n"
ENV_NAME, ENV_VALUE = "CONDORSIM_SUBMIT_TEST", "from-env"

CASES = {
    "seed": ("cmd=/bin/sleep\nargs=1d\nrequirements=IsShadowStartd=!=TRUE\nqueue 8\n"
             "requirements=IsShadowStartd=?=TRUE\nqueue 8\n"),
    "minimal": "executable = job.sh\nqueue\n",
    "everything": '''# a description using most keys
executable = job.sh
arguments = "one 'two three' ""q"""
environment = "A=1 B='x y'"
log = my.log
output = out.$(Cluster).$(Process)
error = err.$(ClusterId)
input = in.txt
initialdir = sub
request_memory = 2G
request_disk = 100M
request_cpus = 2
+Foo = "bar"
MY.Baz = 3 + 4
hold = true
priority = 5
periodic_hold = (time() - JobStartDate) >= 2
periodic_release = HoldReasonCode == 3
periodic_remove = NumJobStarts > 3
periodic_hold_reason = "too slow"
periodic_hold_subcode = 42
on_exit_hold = ExitCode != 0
on_exit_remove = true
batch_name = mybatch
rank = Memory
requirements = Memory > 100
notification = complete
universe = vanilla
queue 2
''',
    "args_v1": 'executable = job.sh\narguments = a\\"b c \'d e\' $(undefined)x $(dflt:zz)\nqueue\n',
    "args_v2_quotes": 'executable = job.sh\narguments = "\'it\'\'s here\'  x ""y"" \'\'"\nqueue\n',
    "args_v2_tabs": 'executable = job.sh\nargs = "a\tb   c"\nqueue\n',
    "env_v1": "executable = job.sh\nenvironment = A=1;B=x y;C=3\nqueue\n",
    "env_v2": 'executable = job.sh\nenv = "A=\'it\'\'s\' C=""q"""\nqueue\n',
    "sizes_plain": "executable = job.sh\nrequest_memory = 1024\nrequest_disk = 2000\nqueue\n",
    "sizes_units": "executable = job.sh\nrequest_memory = 2.5G\nrequest_disk = 1G\nqueue\n",
    "sizes_small": "executable = job.sh\nrequest_memory = 100KB\nrequest_disk = 100K\nqueue\n",
    "sizes_expr": "executable = job.sh\nrequest_memory = MY.Foo * 2\n+Foo = 64\nqueue\n",
    "queue_in": ("executable = job.sh\narguments = $(Item) $(Step) $(Row) $(Process) $(Cluster) "
                 "$(ItemIndex)\nqueue 2 in (a, b c)\n"),
    "queue_in_multiline": "executable = job.sh\narguments = $(Item)\nqueue in (\n  alpha\n  beta, gamma\n)\n",
    "queue_from_inline": "executable = job.sh\narguments = $(x) $(y)\nqueue x,y from (\n 1 2\n 3, 4\n)\n",
    "queue_from_file": "executable = job.sh\narguments = -$(name)- $(rest)\nqueue name,rest from rows.txt\n",
    "queue_var_in": "executable = job.sh\noutput = $(color).out\nqueue color in (red green)\n",
    "macros": ("executable = job.sh\nFOO = bar\nGreeting = hi-$(foo)\narguments = $(greeting) $ENV("
               + ENV_NAME + ") $(CLUSTERID) $(procid)\nqueue\n"),
    "continuation": "executable = \\\n  job.sh\narguments = one \\\n two\nqueue 1\n",
    "comments": "# leading comment\n\nexecutable = job.sh\n   # indented comment\nqueue\n",
    "req_arch": 'executable = job.sh\nrequirements = Arch == "INTEL"\nqueue\n',
    "req_opsys_disk": 'executable = job.sh\nrequirements = OpSys=="WINDOWS" && Disk > 5\nqueue\n',
    "req_target_memory": "executable = job.sh\nrequirements = TARGET.Memory > 100 && MY.Memory > 1\nqueue\n",
    "req_fsd": 'executable = job.sh\nrequirements = FileSystemDomain == "x"\nqueue\n',
    "req_hft": "executable = job.sh\nrequirements = HasFileTransfer\nqueue\n",
    "req_cpus": "executable = job.sh\nrequest_cpus = 4\nrequirements = Cpus > 2\nqueue\n",
    "cpus_clause": "executable = job.sh\nrequest_cpus = 3\nqueue\n",
    "transfer_yes": "executable = job.sh\nshould_transfer_files = YES\nwhen_to_transfer_output = ON_EXIT\nqueue\n",
    "transfer_no": "executable = job.sh\nshould_transfer_files = NO\nqueue\n",
    "hold_false": "executable = job.sh\nhold = false\nqueue\n",
    "keys_case": "Executable = job.sh\nARGUMENTS = x\nRequest_Memory = 300\nQueue 2\n",
    "multi_queue_keys": ("executable = job.sh\narguments = first\nqueue\narguments = second\n"
                         "+Tag = \"t\"\nqueue 2\n"),
    "log_absolute": "executable = job.sh\nlog = /tmp/condorsim-abs.log\nqueue\n",
    "self_reference": "executable = job.sh\nA = 1\nA = $(A)2\narguments = $(a) $(A:x)\nqueue\n",
    "macro_names_as_written": ("cmd = job.sh\narguments = $(cmd)|$(executable)|$(Node)\n+Tag = 3\n"
                               "MY.Other = $(MY.Tag)$(my.tag)\nqueue\n"),
    "matching_dirs": "executable = job.sh\narguments = $(d)\nqueue d matching dirs s*\n",
    "v1_blanks_and_row_fields": ("executable = job.sh\narguments = [$(p)]  [$(q)]   [$(r)]\n"
                                 "queue p, q, r from (\n a  ,  b  ,  c\n x,y,z,w\n m , n\n)\n"),
    "universes": ("executable = job.sh\nuniverse = local\nqueue\nuniverse = scheduler\nqueue\n"
                  "universe = 5\nqueue\n"),
    "queue_paths_from_submit_dir": ("executable = job.sh\ninitialdir = sub\narguments = $(f)\n"
                                    "queue f from rows.txt\narguments = $(g)\nqueue g matching *.txt\n"),
}

from exec_cases import EXEC_CASES  # noqa: E402

CASES.update(EXEC_CASES)
