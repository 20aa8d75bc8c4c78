#!/usr/bin/env python3
"""Writes a synthetic EC2 offer file of about SIZE_MB megabytes in the real file's shape (products,
then terms.OnDemand and terms.Reserved), with t3.micro Linux/Shared/NA/Used priced 0.0104 hidden
among many other SKUs. For measuring `cloudbench prices refresh --provider aws` speed and memory.

usage: make_offer_file.py OUT.json SIZE_MB
"""
import json
import sys

out, size_mb = sys.argv[1], int(sys.argv[2])
oses = ["Linux", "Windows", "RHEL", "SUSE", "Ubuntu Pro", "Red Hat Enterprise Linux with HA"]
tenancies = ["Shared", "Dedicated", "Host"]
caps = ["Used", "UnusedCapacityReservation", "AllocatedCapacityReservation"]
families = ["t3", "m5", "c5", "r5", "m6i", "c6g", "r6g", "m7i", "x2idn", "i4i"]
sizes = ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"]

def attrs(itype, os_, ten, cap, sw):
    return {"servicecode": "AmazonEC2", "location": "US East (N. Virginia)", "locationType": "AWS Region",
            "instanceType": itype, "currentGeneration": "Yes", "instanceFamily": "General purpose", "vcpu": "2",
            "physicalProcessor": "Intel Xeon Platinum 8175", "clockSpeed": "3.1 GHz", "memory": "8 GiB",
            "storage": "EBS only", "networkPerformance": "Up to 10 Gigabit", "processorArchitecture": "64-bit",
            "tenancy": ten, "operatingSystem": os_, "licenseModel": "No License required",
            "usagetype": "BoxUsage:" + itype, "operation": "RunInstances", "availabilityzone": "NA",
            "capacitystatus": cap, "classicnetworkingsupport": "false", "dedicatedEbsThroughput": "Up to 4750 Mbps",
            "ecu": "10", "enhancedNetworkingSupported": "Yes", "gpuMemory": "NA", "intelAvxAvailable": "Yes",
            "intelAvx2Available": "Yes", "intelTurboAvailable": "Yes", "marketoption": "OnDemand",
            "normalizationSizeFactor": "4", "preInstalledSw": sw, "processorFeatures": "Intel AVX; Intel AVX2; Intel AVX512; Intel Turbo",
            "regionCode": "us-east-1", "servicename": "Amazon Elastic Compute Cloud", "vpcnetworkingsupport": "true"}

def term(sku, price):
    return {sku + ".JRTCKXETXF": {"offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2025-11-01T00:00:00Z",
            "priceDimensions": {sku + ".JRTCKXETXF.6YS6EN2CT7": {"rateCode": sku + ".JRTCKXETXF.6YS6EN2CT7",
                "description": "$%s per On Demand Instance Hour" % price, "beginRange": "0", "endRange": "Inf",
                "unit": "Hrs", "pricePerUnit": {"USD": price}, "appliesTo": []}}, "termAttributes": {}}}

per_sku = 2100  # bytes per SKU, products and terms together, roughly
n = max(10, size_mb * 1_000_000 // per_sku)
skus = []
for i in range(n):
    itype = families[i % len(families)] + "." + sizes[(i // len(families)) % len(sizes)]
    os_ = oses[(i // 100) % len(oses)]
    ten, cap = tenancies[(i // 7) % 3], caps[(i // 3) % 3]
    sw = "NA" if i % 5 else "SQL Web"
    if (itype, os_, ten, cap, sw) == ("t3.micro", "Linux", "Shared", "Used", "NA"):
        ten = "Dedicated"
    skus.append(("SKU%08d" % i, itype, os_, ten, cap, sw, "%.10f" % (0.01 + i % 997 / 1000)))
skus.insert(n // 2, ("TARGET0001", "t3.micro", "Linux", "Shared", "Used", "NA", "0.0104000000"))

with open(out, "w") as f:
    f.write('{\n  "formatVersion" : "v1.0",\n  "offerCode" : "AmazonEC2",\n  "version" : "20251120000000",\n  "products" : {\n')
    for j, (sku, itype, os_, ten, cap, sw, _) in enumerate(skus):
        f.write('    "%s" : %s%s\n' % (sku, json.dumps({"sku": sku, "productFamily": "Compute Instance",
                                                       "attributes": attrs(itype, os_, ten, cap, sw)}, indent=2),
                                      "," if j < len(skus) - 1 else ""))
    f.write('  },\n  "terms" : {\n    "OnDemand" : {\n')
    for j, (sku, *_, price) in enumerate(skus):
        f.write('      "%s" : %s%s\n' % (sku, json.dumps(term(sku, price), indent=2), "," if j < len(skus) - 1 else ""))
    f.write('    },\n    "Reserved" : {\n')
    for j, (sku, *_, price) in enumerate(skus[: len(skus) // 3]):
        f.write('      "%s" : %s%s\n' % (sku, json.dumps(term(sku, price)), "," if j < len(skus) // 3 - 1 else ""))
    f.write('    }\n  }\n}\n')
