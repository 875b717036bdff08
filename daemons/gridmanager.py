"""condor_gridmanager: runs one owner's EC2 grid-universe jobs as EC2 instances.

The schedd starts one per owner with grid jobs (``condor_gridmanager -f -o OWNER``) and tells it
where to find it through ``CONDOR_INHERIT``; it reads and changes its jobs only through the
schedd (daemons/grid_jobs.py), whose replies come after the change is on disk.

Each job goes through a state machine (see ../shared/spec/ec2.md, section 4); the launch is in two
phases: a fresh client token is stored in the job (``GridJobId = "ec2 URL TOKEN"``) before
RunInstances, which carries it both as ClientToken and as a tag; the instance id is stored
before anything else happens. A job found with a token and no id (a crash between the two, or a
RunInstances whose answer was lost) is looked up by the tag before anything is launched, and
duplicates are terminated but the oldest. All jobs of one resource (URL + credential files) share
one status poll: one paged DescribeInstances per GRIDMANAGER_JOB_PROBE_INTERVAL[_EC2].
"""
from __future__ import annotations

import os
import re
import signal
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psutil

from condorsim.shared import protocol
from condorsim.shared.classad import ClassAd
from condorsim.shared.daemon import Daemon, daemon_main

from condorsim.daemons.ec2_service import (CredentialsError, EC2Service, ServiceError, TransportError,
                                           isolate_from_ambient_credentials, region_for)
from condorsim.daemons.job_queue import JobId
from condorsim.daemons.schedd import COMPLETED, HELD, IDLE, REMOVED, RUNNING, Schedd

TOKEN_TAG = "CondorsimClientToken"
# StateReason codes of an instance that ended as the user meant it to.
NORMAL_REASONS = {"", "Client.InstanceInitiatedShutdown", "Client.UserInitiatedShutdown",
                  "Server.SpotInstanceTermination", "purged"}
SERVER_REASONS = {"Server.InternalError", "Server.InsufficientInstanceCapacity", "Client.VolumeLimitExceeded",
                  "Client.InternalError", "Client.InvalidSnapshot.NotFound"}
ACTIVE = {"running", "shutting-down", "terminated"}
_KEY_NAME_CHARS = re.compile(r"[^A-Za-z0-9 _-]")
TURN_SECONDS = 1.0  # the most one turn of the job loop takes before signals and commands are served
# One request may wait this long at most, whatever GRIDMANAGER_GAHP_CALL_TIMEOUT says: requests
# are made from the one event loop, which must not stall for minutes behind a dead endpoint.
MAX_REQUEST_SECONDS = 30


class ScheddGone(Exception):
    """The schedd did not answer; the step is retried later from where it was."""


@dataclass
class Resource:
    """One EC2 endpoint with one pair of credential files: its jobs share pings and polls."""
    name: str  # GridResource
    service: EC2Service
    up: bool | None = None  # None until the first ping answers or fails
    auth_error: str | None = None  # set when the credentials were refused or unreadable
    next_ping: float = 0.0
    next_poll: float = 0.0
    poll_count: int = 0  # polls completed; jobs compare it with the poll they wait for
    requests_logged: int = 0  # the request count last written to the log
    down_since: float | None = None  # time.time() when it was found down
    by_id: dict[str, dict] = field(default_factory=dict)
    by_token: dict[str, list[dict]] = field(default_factory=dict)


@dataclass
class GridJob:
    key: JobId
    ad: ClassAd
    resource: Resource
    state: str = "INIT"
    token: str | None = None
    instance_id: str | None = None
    wait_for_poll: int = 0  # the poll count after which CANCEL_CHECK may decide
    cancel_tries: int = 0
    completing: bool = False  # the instance stopped: terminate it, then complete the job

    @property
    def id_text(self) -> str:
        return f"{self.key[0]}.{self.key[1]}"

    @property
    def status(self) -> Any:
        return self.ad.eval("JobStatus")


class GridManager(Daemon):
    subsystem = "GRIDMANAGER"

    def __init__(self, argv=None):
        super().__init__(argv)
        rest = self.options["rest"]
        if "-o" not in rest or rest.index("-o") + 1 >= len(rest):
            raise SystemExit("condor_gridmanager needs -o OWNER")
        self.owner = rest[rest.index("-o") + 1]
        self.jobs: dict[JobId, GridJob] = {}
        self.resources: dict[tuple[str, str, str], Resource] = {}
        self.refresh_due = 0.0
        self.next_policy = 0.0
        self.last_stepped: JobId = (0, 0)  # where the last turn stopped

    # -- set-up ----------------------------------------------------------------------------------
    def setup(self) -> None:
        isolate_from_ambient_credentials()
        if not self.master_address:
            raise SystemExit("condor_gridmanager is started by condor_schedd (no CONDOR_INHERIT)")
        self.schedd = protocol.Client(self.master_address, timeout=30)
        self.bind()
        self.handlers["CHECK_JOBS"] = self.on_check_jobs
        self.read_knobs()
        self.every(self.tick_interval, self.tick, first=0)

    def read_knobs(self) -> None:
        cfg = self.cfg
        self.probe_interval = cfg.get_float("GRIDMANAGER_JOB_PROBE_INTERVAL_EC2",
                                            cfg.get_float("GRIDMANAGER_JOB_PROBE_INTERVAL", 60))
        self.resource_probe_interval = cfg.get_float("GRIDMANAGER_RESOURCE_PROBE_INTERVAL", 300)
        self.rate_limit = cfg.get_float("EC2_GAHP_RATE_LIMIT", 100) / 1000.0
        self.call_timeout = cfg.get_float("GRIDMANAGER_GAHP_CALL_TIMEOUT_EC2",
                                          cfg.get_float("GRIDMANAGER_GAHP_CALL_TIMEOUT", 600))
        self.max_submitted = cfg.get_int("GRIDMANAGER_MAX_SUBMITTED_JOBS_PER_RESOURCE", 1000)
        self.contact_schedd_delay = cfg.get_float("GRIDMANAGER_CONTACT_SCHEDD_DELAY", 5)
        self.policy_interval = cfg.get_float("PERIODIC_EXPR_INTERVAL", 60)
        self.default_region = self.param("EC2_REGION") or "us-east-1"
        self.resource_timeout = cfg.get_float("EC2_RESOURCE_TIMEOUT", -1)
        # condorsim's own knob: instances per DescribeInstances page (the service allows 5..1000).
        self.page_size = max(5, min(1000, cfg.get_int("EC2_DESCRIBE_INSTANCES_PAGE_SIZE", 1000)))
        self.tick_interval = min(0.25, self.probe_interval, self.policy_interval)

    def on_reconfig(self) -> None:
        self.read_knobs()

    def on_check_jobs(self, message: dict, ident: bytes) -> dict:
        self.refresh_due = 0.0
        return {}

    # -- talking to the schedd -------------------------------------------------------------------
    def refresh(self) -> None:
        """Our jobs as the schedd has them now; jobs that left the queue are forgotten."""
        reply = self.schedd.call("GRID_JOBS", owner=self.owner, address=self.address)
        seen = set()
        for wire in reply["jobs"]:
            ad = ClassAd.from_wire(wire)
            key = (ad.eval("ClusterId"), ad.eval("ProcId"))
            seen.add(key)
            job = self.jobs.get(key)
            if job is not None:
                job.ad = ad
                continue
            resource = self.resource_for(ad)
            if resource is not None:
                self.jobs[key] = GridJob(key, ad, resource)
        for key in set(self.jobs) - seen:
            del self.jobs[key]
        self.refresh_due = time.monotonic() + self.contact_schedd_delay

    def update(self, job: GridJob, attrs: dict | None = None, **fields: Any) -> Any:
        """Ask the schedd to set `attrs` (None deletes) and do `fields` (status, event, action);
        durable when this returns. Returns the job's JobStatus (None: it left the queue)."""
        try:
            reply = self.schedd.call("GRID_UPDATE", job=job.id_text, set=attrs or {}, **fields)
        except protocol.RemoteError as exc:
            self.log(f"Job {job.id_text}: the schedd refused an update ({exc}); it is no longer ours")
            self.jobs.pop(job.key, None)
            raise ScheddGone() from None
        except protocol.CommunicationError as exc:
            raise ScheddGone(str(exc)) from None
        for attr, value in (attrs or {}).items():
            if value is None:
                job.ad.pop(attr, None)
            else:
                job.ad[attr] = value
        if reply.get("status") is None:
            self.jobs.pop(job.key, None)
        else:
            job.ad["JobStatus"] = reply["status"]
        return reply.get("status")

    def hold(self, job: GridJob, reason: str, code: int, subcode: int) -> None:
        if job.status not in (HELD, REMOVED, COMPLETED):
            self.log(f"Job {job.id_text} put on hold: {reason} (code {code}/{subcode})")
            self.update(job, action="hold", reason=reason, code=code, subcode=subcode)

    # -- the main loop ---------------------------------------------------------------------------
    def tick(self) -> None:
        try:
            if time.monotonic() >= self.refresh_due:
                self.refresh()
            for resource in list({id(r): r for r in (j.resource for j in self.jobs.values())}.values()):
                self.maintain(resource)
            if time.monotonic() >= self.next_policy:
                self.next_policy = time.monotonic() + self.policy_interval
                self.periodic_policy()
            for resource in {id(j.resource): j.resource for j in self.jobs.values()}.values():
                self.cancel_together(resource)
            # A bounded turn (requests are rate limited and synchronous), fair across jobs.
            deadline = time.monotonic() + TURN_SECONDS
            keys = sorted(self.jobs)
            start = next((i for i, key in enumerate(keys) if key > self.last_stepped), 0)
            for key in keys[start:] + keys[:start]:
                if time.monotonic() >= deadline:
                    break
                if key in self.jobs:
                    self.last_stepped = key
                    self.step(self.jobs[key])
        except ScheddGone as exc:
            self.log(f"Lost contact with the schedd ({exc}); trying again")
            self.refresh_due = 0.0

    def resource_for(self, ad: ClassAd) -> Resource | None:
        words = str(ad.eval("GridResource")).split()
        key_id, secret = ad.eval("EC2AccessKeyId"), ad.eval("EC2SecretAccessKey")
        if len(words) < 2 or not isinstance(key_id, str) or not isinstance(secret, str):
            return None
        name = " ".join(words[:2])
        resource = self.resources.get((name, key_id, secret))
        if resource is None:
            service = EC2Service(words[1], key_id, secret, region=region_for(words[1], self.default_region),
                                 rate_limit=self.rate_limit, timeout=min(self.call_timeout, MAX_REQUEST_SECONDS))
            resource = self.resources[(name, key_id, secret)] = Resource(name, service)
        return resource

    def jobs_of(self, resource: Resource) -> list[GridJob]:
        return [job for job in self.jobs.values() if job.resource is resource]

    # -- resources: ping and poll ----------------------------------------------------------------
    def maintain(self, resource: Resource) -> None:
        if resource.up is False and 0 <= self.resource_timeout <= time.time() - resource.down_since:
            for job in self.jobs_of(resource):
                self.hold(job, "Resource was down for too long.", 41, 22)
        now = time.monotonic()
        if resource.up is not True or resource.auth_error:
            if now >= resource.next_ping:
                self.ping(resource)
        elif now >= resource.next_poll:
            self.poll(resource)

    def ping(self, resource: Resource) -> None:
        resource.next_ping = time.monotonic() + (self.resource_probe_interval if resource.up is False
                                                 else min(self.resource_probe_interval, self.probe_interval))
        try:
            resource.service.call("describe_key_pairs")
            resource.auth_error = None
        except TransportError as exc:
            self.resource_down(resource, str(exc))
            return
        except CredentialsError as exc:
            resource.auth_error = str(exc)
        except ServiceError as exc:
            if not exc.is_auth:
                self.log(f"Ping of {resource.name} answered {exc.code}; taking it as up")
            else:
                resource.auth_error = f"Failed to authenticate ({exc.code}): '{exc.message}'."
        resource.down_since = None
        if resource.up is False:
            self.log(f"Grid resource {resource.name} is back up")
            for job in self.jobs_of(resource):
                self.update(job, {"GridResourceUnavailableTime": None},
                            event=["grid_resource_up", resource.name])
        resource.up = True
        resource.next_poll = 0.0

    def resource_down(self, resource: Resource, why: str) -> None:
        if resource.down_since is None:
            resource.down_since = time.time()
        if resource.up is not False:
            self.log(f"Grid resource {resource.name} is down: {why}")
            now = int(time.time())
            for job in self.jobs_of(resource):
                self.update(job, {"GridResourceUnavailableTime": now},
                            event=["grid_resource_down", resource.name])
        resource.up = False
        resource.next_ping = time.monotonic() + self.resource_probe_interval

    def poll(self, resource: Resource) -> None:
        """One paged DescribeInstances over the whole account: every job's status at once."""
        resource.next_poll = time.monotonic() + self.probe_interval
        by_id: dict[str, dict] = {}
        by_token: dict[str, list[dict]] = {}
        params: dict[str, Any] = {"MaxResults": self.page_size}
        try:
            while True:
                page = resource.service.call("describe_instances", **params)
                for reservation in page.get("Reservations", []):
                    for instance in reservation.get("Instances", []):
                        by_id[instance["InstanceId"]] = instance
                        token = tag_value(instance, TOKEN_TAG)
                        if token:
                            by_token.setdefault(token, []).append(instance)
                if not page.get("NextToken"):
                    break
                params["NextToken"] = page["NextToken"]
        except TransportError as exc:
            self.resource_down(resource, str(exc))
            return
        except (ServiceError, CredentialsError) as exc:
            self.log(f"Status poll of {resource.name} failed: {exc}")
            return
        resource.by_id, resource.by_token = by_id, by_token
        resource.poll_count += 1
        counts = resource.service.requests
        if sum(counts.values()) != resource.requests_logged:
            resource.requests_logged = sum(counts.values())
            self.log(f"Requests to {resource.name}: " + " ".join(f"{op}={n}" for op, n in sorted(counts.items()))
                     + f" total={resource.requests_logged}")

    # -- the per-job state machine ---------------------------------------------------------------
    def step(self, job: GridJob) -> None:
        resource = job.resource
        if resource.up is not True:
            return  # nothing moves while the endpoint is unknown or down
        try:
            getattr(self, "state_" + job.state.lower())(job)
        except TransportError as exc:
            self.resource_down(resource, str(exc))
        except CredentialsError as exc:
            self.hold(job, str(exc), 37, 0)

    def state_init(self, job: GridJob) -> None:
        words = str(job.ad.eval("GridJobId")).split() if isinstance(job.ad.eval("GridJobId"), str) else []
        job.token = words[2] if len(words) >= 3 else None
        job.instance_id = words[3] if len(words) >= 4 else None
        if job.ad.eval("Managed") != "External":
            self.update(job, {"Managed": "External", "ManagedManager": ""})
        if job.instance_id:
            job.state = "SUBMITTED"
        elif job.token:
            job.state = "SEEK_INSTANCE"
        else:
            job.state = "UNSUBMITTED"

    def state_unsubmitted(self, job: GridJob) -> None:
        """No submission on record: launch when Idle; a removed job just leaves."""
        if job.status == REMOVED:
            self.finish(job, "removed")
            return
        if job.status != IDLE:
            return
        if job.resource.auth_error:
            self.hold(job, job.resource.auth_error, 37, 9 if "authenticate" in job.resource.auth_error else 0)
            return
        submitted = sum(1 for j in self.jobs_of(job.resource) if j.token)
        if submitted >= self.max_submitted:
            return
        token = str(uuid.uuid4())
        fields: dict[str, Any] = {"GridJobId": f"{job.resource.name} {token}", "GridJobStatus": None}
        if isinstance(job.ad.eval("EC2KeyPairFile"), str) and not isinstance(job.ad.eval("EC2KeyPair"), str):
            fields["EC2KeyPair"] = self.key_pair_name(job)
        self.crash_point("before_token")
        status = self.update(job, fields)  # durable before anything is launched with it
        self.crash_point("token_saved")
        job.token = token
        job.state = "CREATE_KEY_PAIR" if status == IDLE else "SEEK_INSTANCE"

    def key_pair_name(self, job: GridJob) -> str:
        host = self.param("COLLECTOR_HOST") or self.hostname
        return _KEY_NAME_CHARS.sub(" ", f"SSH_{host}_{job.ad.eval('GlobalJobId')}")

    def state_create_key_pair(self, job: GridJob) -> None:
        if job.status != IDLE:
            self.forget(job)
            return
        path = job.ad.eval("EC2KeyPairFile")
        if isinstance(path, str) and not os.path.exists(path):
            name = str(job.ad.eval("EC2KeyPair"))
            try:
                material = job.resource.service.call("create_key_pair", KeyName=name)["KeyMaterial"]
            except ServiceError as exc:
                if exc.code != "InvalidKeyPair.Duplicate":
                    self.hold(job, f"Create_Keypair_Failure: {exc}", 40, 11)
                    return
                # No instance uses it yet (none was launched with this token): make it anew.
                job.resource.service.call("delete_key_pair", KeyName=name)
                material = job.resource.service.call("create_key_pair", KeyName=name)["KeyMaterial"]
            try:
                write_private_file(path, material)
            except OSError as exc:
                job.resource.service.call("delete_key_pair", KeyName=name)
                self.hold(job, f"Failed to write key pair file {path} ({exc.strerror})", 40, 11)
                return
        job.state = "START_VM"

    def state_start_vm(self, job: GridJob) -> None:
        if job.status != IDLE:
            self.forget(job)
            return
        try:
            params = self.run_parameters(job)
        except OSError as exc:
            self.hold(job, f"Failed to read user data file {job.ad.eval('EC2UserDataFile')} ({exc.strerror})", 37, 0)
            return
        try:
            reply = job.resource.service.call("run_instances", **params)
        except TransportError:
            # The instance may or may not exist: look for it by tag before launching again.
            job.state = "SEEK_INSTANCE"
            raise
        except ServiceError as exc:
            if exc.code == "IdempotentInstanceTerminated":
                job.state = "SEEK_INSTANCE"
                return
            self.hold(job, str(exc), 40, 12)
            return
        self.crash_point("launched")
        self.record_instance(job, reply["Instances"][0])

    def run_parameters(self, job: GridJob) -> dict:
        ad = job.ad
        tags = [{"Key": TOKEN_TAG, "Value": job.token}]
        names = ad.eval("EC2TagNames")
        for name in (names.split(",") if isinstance(names, str) else []):
            value = ad.eval("EC2Tag" + name.strip())
            if name.strip() and isinstance(value, str):
                tags.append({"Key": name.strip(), "Value": value})
        if ad.eval("WantNameTag") is not False and not any(t["Key"].lower() == "name" for t in tags):
            label = ad.eval("EC2TagName")
            if isinstance(label, str):
                tags.append({"Key": "Name", "Value": label})
        params: dict[str, Any] = {
            "ImageId": ad.eval("EC2AmiID"), "MinCount": 1, "MaxCount": 1, "ClientToken": job.token,
            "InstanceInitiatedShutdownBehavior": "terminate",
            "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}]}
        optional = {"KeyName": "EC2KeyPair", "InstanceType": "EC2InstanceType", "SubnetId": "EC2VpcSubnet",
                    "PrivateIpAddress": "EC2VpcIp"}
        for param, attr in optional.items():
            if isinstance(ad.eval(attr), str):
                params[param] = ad.eval(attr)
        if isinstance(ad.eval("EC2AvailabilityZone"), str):
            params["Placement"] = {"AvailabilityZone": ad.eval("EC2AvailabilityZone")}
        for param, attr in (("SecurityGroups", "EC2SecurityGroups"), ("SecurityGroupIds", "EC2SecurityIDs")):
            if isinstance(ad.eval(attr), str):
                params[param] = [g for g in re.split(r"[\s,]+", ad.eval(attr)) if g]
        data = b""
        if isinstance(ad.eval("EC2UserData"), str):
            data += ad.eval("EC2UserData").encode()
        if isinstance(ad.eval("EC2UserDataFile"), str):
            with open(ad.eval("EC2UserDataFile"), "rb") as handle:
                data += handle.read()
        if data:
            params["UserData"] = data  # botocore base64-encodes it
        extra = ad.eval("EC2ParamNames")
        for name in (re.split(r"[\s,]+", extra) if isinstance(extra, str) else []):
            value = ad.eval("EC2Param_" + name.replace(".", "_")) if name else None
            if isinstance(value, str):
                params[name] = value
        return params

    def record_instance(self, job: GridJob, instance: dict) -> None:
        """The instance id is durable, with event 027, before anything else happens."""
        job.instance_id = instance["InstanceId"]
        grid_job_id = f"{job.resource.name} {job.token} {job.instance_id}"
        fields = {"GridJobId": grid_job_id, "EC2InstanceName": job.instance_id,
                  "GridJobStatus": instance.get("State", {}).get("Name", "pending")}
        self.update(job, fields, event=["grid_submit", job.resource.name, grid_job_id])
        job.state = "SUBMITTED"
        job.wait_for_poll = job.resource.poll_count + 1  # a poll begun before the launch cannot know it
        self.log(f"Job {job.id_text}: instance {job.instance_id} launched")

    def state_seek_instance(self, job: GridJob) -> None:
        """A token without an id: find the instance by its tag; keep the oldest, end the others."""
        reply = job.resource.service.call(
            "describe_instances", Filters=[{"Name": f"tag:{TOKEN_TAG}", "Values": [job.token]}])
        found = [i for r in reply.get("Reservations", []) for i in r.get("Instances", [])]
        if not found:
            if job.status == IDLE:
                job.state = "CREATE_KEY_PAIR"
            else:
                self.forget(job)
            return
        found.sort(key=lambda i: (i.get("LaunchTime"), i["InstanceId"]))
        duplicates = [i["InstanceId"] for i in found[1:] if i["State"]["Name"] != "terminated"]
        if duplicates:
            self.log(f"Job {job.id_text}: terminating duplicate instances {duplicates}")
            job.resource.service.call("terminate_instances", InstanceIds=duplicates)
        self.record_instance(job, found[0])

    def state_submitted(self, job: GridJob) -> None:
        if job.status in (HELD, REMOVED):
            job.state = "CANCEL"
            return
        resource = job.resource
        if resource.poll_count == 0 or job.wait_for_poll > resource.poll_count:
            return
        job.wait_for_poll = resource.poll_count + 1
        strays = [i["InstanceId"] for i in resource.by_token.get(job.token or "", [])
                  if i["InstanceId"] != job.instance_id and i["State"]["Name"] not in ("terminated", "shutting-down")]
        if strays:  # launched with this job's token by a gridmanager that died before recording it
            self.log(f"Job {job.id_text}: terminating instances {strays} that carry its token")
            try:
                resource.service.call("terminate_instances", InstanceIds=strays)
            except ServiceError as exc:
                self.log(f"Job {job.id_text}: could not terminate {strays}: {exc}")
        instance = resource.by_id.get(job.instance_id)
        state = instance["State"]["Name"] if instance else "not-found"
        reason = (instance.get("StateReason") or {}).get("Code", "") if instance else "purged"
        fields: dict[str, Any] = {}
        if job.ad.eval("GridJobStatus") != state:
            fields["GridJobStatus"] = state
        if job.ad.eval("EC2StatusReasonCode") != reason and reason:
            fields["EC2StatusReasonCode"] = reason
        dns = instance.get("PublicDnsName") if instance else None
        if dns and job.ad.eval("EC2RemoteVirtualMachineName") != dns:
            fields["EC2RemoteVirtualMachineName"] = dns
        if fields:
            self.update(job, fields)
        if state in ACTIVE or state == "not-found":
            self.mark_running(job)
        if state in ("stopped", "shutoff"):
            job.completing = True
            job.state = "CANCEL"
        elif state in ("terminated", "not-found"):
            if reason in NORMAL_REASONS:
                self.complete(job)
            elif reason in SERVER_REASONS:
                self.hold(job, f"Abnormal instance termination: {reason}.", 41, 13)
                self.forget(job)
            else:
                self.hold(job, f"Abnormal instance termination: {reason}.", 41, 14)
                self.forget(job)

    def mark_running(self, job: GridJob) -> None:
        """The first poll that shows the instance up: the job is Running (event 001)."""
        if job.status != IDLE:
            return
        now = int(time.time())
        fields: dict[str, Any] = {"ShadowBday": now, "JobCurrentStartDate": now,
                                  "NumJobStarts": int(job.ad.eval("NumJobStarts") or 0) + 1,
                                  "NumShadowStarts": int(job.ad.eval("NumShadowStarts") or 0) + 1}
        if not isinstance(job.ad.eval("JobStartDate"), int):
            fields["JobStartDate"] = now
        self.update(job, fields, status=RUNNING, event=["execute", job.resource.name, None])

    def cancel_together(self, resource: Resource) -> None:
        """The instances of all jobs of `resource` waiting to be cancelled, in one request
        (condor_rm of a whole cluster); if the service refuses it, each is tried on its own."""
        jobs = [job for job in self.jobs_of(resource) if job.state == "CANCEL"]
        if resource.up is not True or len(jobs) < 2:
            return
        for job in jobs:
            self.update(job, {"GridJobStatus": "cancelling"})
        try:
            resource.service.call("terminate_instances", InstanceIds=[job.instance_id for job in jobs])
        except (ServiceError, CredentialsError) as exc:
            self.log(f"Terminating {len(jobs)} instances at once failed ({exc}); trying one by one")
            return
        except TransportError as exc:
            self.resource_down(resource, str(exc))
            return
        for job in jobs:
            self.await_termination(job)

    def await_termination(self, job: GridJob) -> None:
        job.wait_for_poll = job.resource.poll_count + 1
        job.resource.next_poll = min(job.resource.next_poll, time.monotonic() + self.rate_limit)
        job.state = "CANCEL_CHECK"

    def state_cancel(self, job: GridJob) -> None:
        self.update(job, {"GridJobStatus": "cancelling"})
        try:
            job.resource.service.call("terminate_instances", InstanceIds=[job.instance_id])
        except ServiceError as exc:
            if not exc.code.startswith("InvalidInstanceID"):
                self.hold(job, f"Failed to terminate instance {job.instance_id}: {exc}", 42, 15)
        self.await_termination(job)

    def state_cancel_check(self, job: GridJob) -> None:
        resource = job.resource
        if resource.poll_count < job.wait_for_poll:
            return
        instance = resource.by_id.get(job.instance_id)
        state = instance["State"]["Name"] if instance else "not-found"
        if state not in ("terminated", "not-found", "shutting-down"):
            job.cancel_tries += 1
            if job.cancel_tries > 3:
                self.hold(job, f"Instance {job.instance_id} did not terminate; it may have been lost", 42, 16)
                job.cancel_tries = 0
            job.state = "CANCEL"
            return
        self.update(job, {"GridJobStatus": state})
        if job.status == REMOVED:
            self.finish(job, "removed")
        elif job.completing:
            self.complete(job)
        else:
            self.forget(job)  # held (or held and already released): a release starts anew

    # -- endings -------------------------------------------------------------------------------
    def complete(self, job: GridJob) -> None:
        """The instance ended by itself: 005 with return value 0; the job leaves (as its policy says)."""
        fields = self.wall_clock(job)
        fields.update({"GridJobId": None, "ExitCode": 0})
        self.delete_key_pair(job)
        self.update(job, fields, action="complete")
        job.state = "UNSUBMITTED"
        job.token = job.instance_id = None

    def finish(self, job: GridJob, how: str) -> None:
        """A removed job whose instance is gone (or never was): 009, and it leaves the queue."""
        self.delete_key_pair(job)
        fields = self.wall_clock(job)
        self.update(job, fields, action=how)
        self.jobs.pop(job.key, None)

    def forget(self, job: GridJob) -> None:
        """Held with no instance left: the submission is forgotten; a release starts anew."""
        self.delete_key_pair(job)
        fields = self.wall_clock(job)
        fields.update({"GridJobId": None, "GridJobStatus": None})
        self.update(job, fields)
        job.state = "UNSUBMITTED"
        job.token = job.instance_id = None
        job.cancel_tries = 0
        job.completing = False

    def wall_clock(self, job: GridJob) -> dict:
        bday = job.ad.eval("ShadowBday")
        if not isinstance(bday, int):
            return {}
        wall = job.ad.eval("RemoteWallClockTime")
        total = (wall if isinstance(wall, (int, float)) else 0) + max(0, int(time.time()) - bday)
        return {"RemoteWallClockTime": float(total), "ShadowBday": None}

    def delete_key_pair(self, job: GridJob) -> None:
        """The key pair made for this job (server side and file), when the job is done with it."""
        path, name = job.ad.eval("EC2KeyPairFile"), job.ad.eval("EC2KeyPair")
        if not isinstance(path, str) or not isinstance(name, str):
            return
        try:
            job.resource.service.call("delete_key_pair", KeyName=name)
        except ServiceError as exc:
            self.log(f"Job {job.id_text}: could not delete key pair {name}: {exc}")
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.log(f"Job {job.id_text}: could not delete key pair file {path}: {exc.strerror}")

    # -- periodic policy of the jobs we manage -------------------------------------------------
    def periodic_policy(self) -> None:
        for job in list(self.jobs.values()):
            ad, status = job.ad, job.status
            if status in (IDLE, RUNNING) and Schedd.fires(ad, "PeriodicHold"):
                custom = ad.eval("PeriodicHoldReason")
                reason = custom if isinstance(custom, str) and custom else Schedd.policy_text(ad, "PeriodicHold")
                subcode = ad.eval("PeriodicHoldSubCode")
                self.hold(job, reason, 3, subcode if isinstance(subcode, int) else 0)
            elif status == HELD and ad.eval("HoldReasonCode") != 1 and Schedd.fires(ad, "PeriodicRelease"):
                self.update(job, action="release", reason=Schedd.policy_text(ad, "PeriodicRelease"))
            elif status not in (REMOVED, COMPLETED) and Schedd.fires(ad, "PeriodicRemove"):
                self.update(job, action="remove", reason=Schedd.policy_text(ad, "PeriodicRemove"))

    def crash_point(self, name: str) -> None:
        """Fault injection for the crash-safety tests: when GRIDMANAGER_TEST_CRASH_AT names this
        point and the file GRIDMANAGER_TEST_CRASH_FILE exists (it is removed: one crash), kill -9
        GRIDMANAGER_TEST_CRASH_VICTIM (gridmanager, schedd or master) and every process between
        it and us, at this very step."""
        flag = self.param("GRIDMANAGER_TEST_CRASH_FILE")
        if self.param("GRIDMANAGER_TEST_CRASH_AT") != name or not flag or not os.path.exists(flag):
            return
        os.unlink(flag)
        victim = (self.param("GRIDMANAGER_TEST_CRASH_VICTIM") or "gridmanager").lower()
        self.log(f"Crashing the {victim} at {name} (GRIDMANAGER_TEST_CRASH_AT)")
        chain = [os.getpid(), os.getppid(), psutil.Process(os.getppid()).ppid()]  # us, schedd, master
        depth = {"gridmanager": 1, "schedd": 2, "master": 3}[victim]
        for pid in reversed(chain[:depth]):
            os.kill(pid, signal.SIGKILL)

    def shutdown(self) -> None:
        self.log(f"Stopping; {len(self.jobs)} job(s) of {self.owner} stay as they are for the next gridmanager")


def tag_value(instance: dict, key: str) -> str | None:
    return next((t.get("Value") for t in instance.get("Tags") or [] if t.get("Key") == key), None)


def write_private_file(path: str, text: str) -> None:
    """Write `text` to `path` with mode 0600 from the start (a temporary file renamed over it,
    so an existing file with a looser mode cannot keep it)."""
    directory, name = os.path.split(path)
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    return daemon_main(GridManager, argv)

