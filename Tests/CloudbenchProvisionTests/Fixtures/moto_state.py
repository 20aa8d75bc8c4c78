"""What the moto tests read from (and plant in) a moto server, through boto3 (installed with moto).

Run inside the test's network namespace: `moto_state.py PORT wait|state RUN|leftover RUN CREATED`.
Prints JSON. Credentials are moto's fakes; the endpoint is loopback only.
"""
import json, sys, time, urllib.request
import boto3

port, command = sys.argv[1], sys.argv[2]
url = f"http://127.0.0.1:{port}"

if command == "wait":
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            print("{}")
            sys.exit(0)
        except Exception:
            time.sleep(0.1)
    sys.exit(1)

ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=url,
                   aws_access_key_id="testing", aws_secret_access_key="testing")

def tags(x):
    return {t["Key"]: t["Value"] for t in x.get("Tags", [])}

if command == "state":
    run = sys.argv[3]
    f = [{"Name": "tag:cloudbench-run", "Values": [run]}]
    instances = [i for r in ec2.describe_instances(Filters=f)["Reservations"] for i in r["Instances"]]
    groups = ec2.describe_security_groups(Filters=f)["SecurityGroups"]
    print(json.dumps({
        "instances": [{"id": i["InstanceId"], "state": i["State"]["Name"], "type": i["InstanceType"],
                       "zone": i["Placement"]["AvailabilityZone"], "key": i.get("KeyName"),
                       "groups": [g["GroupId"] for g in i.get("SecurityGroups", [])],
                       "imds_tokens": i.get("MetadataOptions", {}).get("HttpTokens"), "tags": tags(i)} for i in instances],
        "security_groups": [{"id": g["GroupId"], "name": g["GroupName"], "tags": tags(g),
                             "ingress": [{"protocol": p["IpProtocol"], "from": p.get("FromPort"), "to": p.get("ToPort"),
                                          "cidrs": [r["CidrIp"] for r in p.get("IpRanges", [])],
                                          "groups": [u["GroupId"] for u in p.get("UserIdGroupPairs", [])]}
                                         for p in g["IpPermissions"]]} for g in groups],
        "key_pairs": [{"name": k["KeyName"], "tags": tags(k)} for k in ec2.describe_key_pairs(Filters=f)["KeyPairs"]],
        "volumes": [{"id": v["VolumeId"], "tags": tags(v)} for v in ec2.describe_volumes(Filters=f)["Volumes"]],
        "all_instances": sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"]),
        "all_security_groups": len(ec2.describe_security_groups()["SecurityGroups"]),
        "all_key_pairs": len(ec2.describe_key_pairs()["KeyPairs"]),
    }, sort_keys=True))

if command == "leftover":
    # What a killed run leaves: a security group and an instance, tagged as cloudbench tags them.
    run, created = sys.argv[3], sys.argv[4]
    t = [{"Key": "cloudbench-run", "Value": run}, {"Key": "cloudbench-managed", "Value": "true"},
         {"Key": "cloudbench-created", "Value": created}]
    g = ec2.create_security_group(GroupName=f"cloudbench-{run}-p", Description="leftover",
                                  TagSpecifications=[{"ResourceType": "security-group", "Tags": t}])
    ec2.run_instances(ImageId="ami-12c6146b", InstanceType="m5.large", MinCount=1, MaxCount=1,
                      SecurityGroupIds=[g["GroupId"]], TagSpecifications=[{"ResourceType": "instance", "Tags": t}])
    print("{}")
