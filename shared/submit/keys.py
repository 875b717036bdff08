"""The submit keys condor_submit itself reads (lowercase), as named by HTCondor 25's submit code.

A key of a description that is neither one of these, nor referenced by a macro, nor a ``+Attr`` /
``MY.Attr`` / dotted name, draws condor_submit's "was unused ... Is it a typo?" warning.  Names
ending in ``_`` are prefixes (``request_<resource>``, ``ec2_tag_<name>`` ...).
"""

KNOWN_KEYS = frozenset("""
    _container_port accounting_group accounting_group_user accountinggroup acctgroupuser
    allow_arguments_v1 allow_environment_v1 allowed_execute_duration allowed_job_duration
    allowedexecuteduration allowedjobduration append_files appendfiles arc_application
    arc_data_staging arc_resources arc_rte arcapplication arcdatastaging arcresources arcrte
    args arguments arguments2 aws_access_key_id_file aws_region aws_secret_access_key_file
    awsregion azure_admin_key azure_admin_username azure_auth_file azure_image azure_location
    azure_size azureadminkey azureadminusername azureauthfile azureimage azurelocation azuresize
    batch_extra_submit_args batch_id batch_name batch_project batch_queue batch_runtime
    batchextrasubmitargs batchproject batchqueue batchruntime buffer_block_size buffer_files
    buffer_size bufferblocksize bufferfiles buffersize checkpoint_destination
    checkpoint_exit_code checkpointdestination cloud_label_ cloud_label_names cluster cmd
    commoninputfiles compress_files compressfiles concurrency_limits concurrency_limits_expr
    concurrencylimits container_image container_is_common container_service_names
    container_target_dir containerimage containeriscommon containerservicenames
    containertargetdir core_size coresize cron_day_of_month cron_day_of_week cron_hour
    cron_minute cron_month cron_prep_time cron_window crondayofmonth crondayofweek cronhour
    cronminute cronmonth cronpreptime cronwindow cuda_version cudaversion dag_node_name
    dagman_job_id dagman_log dagmanjobid dagmannodeslog dagnodename deferral_prep_time
    deferral_time deferral_window deferralpreptime deferraltime deferralwindow
    delegate_job_gsi_credentials_lifetime delegatejobgsicredentialslifetime description
    disk_usage diskusage docker_image docker_network_type docker_override_entrypoint
    docker_pull_policy docker_send_credentials dockerimage dockernetworktype
    dockeroverrideentrypoint dockerpullpolicy dockersendcredentials dont_encrypt_input_files
    dont_encrypt_output_files dontencryptinputfiles dontencryptoutputfiles ec2_access_key_id
    ec2_ami_id ec2_availability_zone ec2_block_device_mapping ec2_ebs_volumes ec2_elastic_ip
    ec2_iam_profile_arn ec2_iam_profile_name ec2_instance_type ec2_key_pair_file ec2_keyp_air
    ec2_keypair ec2_keypair_file ec2_parameter_ ec2_parameter_names ec2_secret_access_key
    ec2_security_groups ec2_security_ids ec2_spot_price ec2_tag_ ec2_tag_names ec2_user_data
    ec2_user_data_file ec2_vpc_ip ec2_vpc_subnet ec2accesskeyid ec2amiid ec2availabilityzone
    ec2blockdevicemapping ec2elasticblockstoragevolumes ec2elasticip ec2iamprofilearn
    ec2iamprofilename ec2instancetype ec2keypair ec2keypairfile ec2paramnames ec2secretaccesskey
    ec2securitygroups ec2securityids ec2spotprice ec2tagnames ec2userdata ec2userdatafile
    ec2vpcip ec2vpcsubnet email_attributes emailattributes encrypt_execute_directory
    encrypt_input_files encrypt_output_files encryptexecutedirectory encryptinputfiles
    encryptoutputfiles env environment environment2 erase_output_and_error_on_restart
    eraseoutputanderroronrestart err error executable exit_requirements factory.credd_host
    factory.iwd factory.requirements fetch_files fetchfiles file_remaps fileremaps gce_account
    gce_auth_file gce_image gce_json_file gce_machine_type gce_metadata gce_metadata_file
    gce_preemptible gceaccount gceauthfile gceimage gcejsonfile gcemachinetype gcemetadata
    gcemetadatafile gcepreemptible get_env getenv gpus_maximum_capability
    gpus_minimum_capability gpus_minimum_memory gpus_minimum_runtime gpusmaxcapability
    gpusmincapability gpusminmemory gpusminruntime grid_resource gridresource
    gs_access_key_id_file gs_secret_access_key_file hold hold_kill_sig holdkillsig image_size
    imagesize in initial_dir initialdir input interactive_args interactive_executable isnoopjob
    iwd jar_files jarfiles java_vm_args java_vm_arguments java_vm_arguments2 javavmargs
    job_ad_information_attrs job_iwd job_lease_duration job_machine_attrs
    job_machine_attrs_history_length job_max_vacate_time jobadinformationattrs jobbatchid
    jobbatchname jobdescription jobleaseduration jobmachineattrs jobmachineattrshistorylength
    jobmaterializelimit jobmaterializemaxidle jobmaxretries jobmaxvacatetime jobnotification
    jobprio jobset jobsetname jobstarterdebug jobstarterlog jobsuccessexitcode jobuniverse
    jobvm_macaddr jobvm_vcpus jobvmcheckpoint jobvmmemory jobvmnetworking jobvmnetworkingtype
    jobvmtype jobvmvncconsole keep_claim_idle keepclaimidle kill_sig kill_sig_timeout killsig
    killsigtimeout lastmatchlistlength leave_in_queue leavejobinqueue load_profile loadprofile
    local_files localfiles log log_xml machine_count machinecount manifest manifest_dir
    manifestdesired manifestdir match_list_length materialize_max_idle max_idle
    max_job_retirement_time max_materialize max_retries max_transfer_input_mb
    max_transfer_output_mb maxjobretirementtime maxtransferinputmb maxtransferoutputmb
    memory_usage mount_under_scratch mountunderscratch my. next_job_start_delay
    nextjobstartdelay nice_user niceuser node_count nodecount noop_job noop_job_exit_code
    noop_job_exit_signal noopjobexitcode noopjobexitsignal notification notify_user notifyuser
    on_evict_checks on_exit_hold on_exit_hold_reason on_exit_hold_subcode on_exit_remove
    onexithold onexitholdreason onexitholdsubcode onexitremove out output output_destination
    output_directory outputdestination outputdirectory parallel_script_shadow
    parallel_script_starter parallelscriptshadow parallelscriptstarter periodic_hold
    periodic_hold_reason periodic_hold_subcode periodic_release periodic_remove periodic_vacate
    periodichold periodicholdreason periodicholdsubcode periodicrelease periodicremove
    periodicvacate preferences preserve_relative_paths preserverelativepaths primary_unix_group
    primaryunixgroup prio priority process project_name projectname public_input_files
    publicinputfiles rank remote_ remote_initialdir remoteiwd remove_kill_sig removekillsig
    rendezvousdir request_ request_cpus request_disk request_gpu_memory request_gpus
    request_memory requestcpus requestdisk requestgpus requestmemory require_ require_gpus
    requiregpus requirements retry_request_disk retry_request_memory
    retry_request_memory_increase retry_request_memory_max retry_until run_as_owner runasowner
    s3_access_key_id_file s3_secret_access_key_file scitokens_file scitokensfile send_credential
    shell should_transfer_files shouldtransferfiles skip_filechecks skip_if_dataflow
    skipifdataflow stack_size stacksize starter_debug starter_log stderr stdin stdout
    stream_error stream_input stream_output streamerr streamin streamout submit_event_notes
    submit_event_notes_attrs submit_event_user_notes submit_file submitallowduplicatematches
    submiteventnotes submiteventnotesattrs submiteventusernotes submitfailemptymatches
    submitmatchdirectories submitwarnduplicatematches submitwarnemptymatches success_exit_code
    successcheckpointexitcode suspend_job_at_exec suspendjobatexec tasks_per_job
    tool_daemon_args tool_daemon_arguments tool_daemon_arguments2 tool_daemon_cmd
    tool_daemon_error tool_daemon_input tool_daemon_output tooldaemonargs tooldaemoncmd
    tooldaemonerror tooldaemoninput tooldaemonoutput transfer_checkpoint_files
    transfer_common_input transfer_container transfer_error transfer_executable transfer_input
    transfer_input_files transfer_output transfer_output_files transfer_output_remaps
    transfer_plugins transfercheckpoint transfercontainer transfererr transferexecutable
    transferin transferinput transferinputfiles transferout transferoutput transferoutputfiles
    transferoutputremaps transferplugins transform_body_ transformonevict ulog_execute_attrs
    universe use_oauth_services use_scitoken use_scitokens use_x509userproxy useoauthservices
    userlog userlogexecuteeventattrs userlogusexml vm_checkpoint vm_disk vm_macaddr vm_memory
    vm_networking vm_networking_type vm_no_output_vm vm_type vm_vcpus vm_vnc want_ads
    want_graceful_removal want_io_proxy want_job_networking wantgracefulremoval wantioproxy
    wantjobnetworking wantnametag wantparallelscheduling when_to_transfer_output
    whentotransferoutput x509userproxy xen_initrd xen_kernel xen_kernel_params xen_root
""".split())
PREFIXES = tuple(sorted(k for k in KNOWN_KEYS if k.endswith("_")))


def is_known_key(key: str) -> bool:
    """True if condor_submit reads submit key `key` (any case)."""
    low = key.lower()
    return low in KNOWN_KEYS or low.startswith(PREFIXES)
