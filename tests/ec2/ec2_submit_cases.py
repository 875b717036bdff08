"""Grid-universe submit descriptions whose job ads are compared with HTCondor's
(see make_submit_expected.py). Each runs in a directory holding ``key.id`` and ``key.secret``
(mode 0600) and ``ud.txt``."""

HEAD = ("universe = grid\ngrid_resource = ec2 https://ec2.amazonaws.com/\n"
        "ec2_access_key_id = key.id\nec2_secret_access_key = key.secret\n")

CASES = {
    # The seed blog post's description, with the credential paths made relative.
    "seed": HEAD + """ec2_ami_id = ami-60bd4609
ec2_instance_type = m1.small
ec2_user_data = Hello $(executable)!
executable = EC2_Instance-$(ec2_ami_id)
log = $(executable).$(cluster).log
ec2_keypair_file = $(executable).$(cluster).pem
queue
""",
    "minimal": HEAD + "ec2_ami_id = ami-1\nexecutable = label\nqueue\n",
    "aliases": ("universe = grid\ngrid_resource = ec2 http://127.0.0.1:5000/\n"
                "aws_access_key_id_file = key.id\naws_secret_access_key_file = key.secret\n"
                "EC2_AMI_ID = ami-2\nexecutable = sub/label\nec2_keyp_air = mykey\n"
                "ec2_key_pair_file = ignored.pem\nqueue 2\n"),
    "everything": HEAD + """ec2_ami_id = ami-3
executable = x
ec2_instance_type = t2.micro
ec2_user_data = a "quoted" word
ec2_user_data_file = ud.txt
ec2_key_pair_file = k.pem
ec2_security_groups = default, web
ec2_security_ids = sg-1 sg-2
ec2_availability_zone = us-east-1a
ec2_vpc_subnet = subnet-9
ec2_vpc_ip = 10.0.0.5
ec2_tag_names = Team owner
ec2_tag_team = ops
ec2_tag_Owner = me
Ec2_Tag_Zeta = z
ec2_tag_alpha = a
ec2_parameter_names = Foo.Bar
ec2_parameter_Foo_Bar = 1
ec2_parameter_Baz = 2
requirements = Memory > 3
periodic_hold = (time() - ShadowBday) >= 3
initialdir = sub
queue
""",
    "name_tag": HEAD + "ec2_ami_id = ami-4\nexecutable = label\nec2_tag_Name = mine\nqueue\n",
}
