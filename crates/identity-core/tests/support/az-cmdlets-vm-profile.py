import json, re
C = "Microsoft.Azure.Commands.Common.Authentication.Abstractions.Core.IAzureContextContainer"
SRC = {
 "Set-AzVMOperatingSystem": ("Az.Compute","src/Compute/Compute/help/Set-AzVMOperatingSystem.md","0997fe790ac2be5b7266e6a039bd6621300507b9",[
  ("Windows",True,"[-VM] <PSVirtualMachine> [-Windows] [[-ComputerName] <String>] [[-Credential] <PSCredential>] [[-CustomData] <String>] [-ProvisionVMAgent] [-EnableAutoUpdate] [[-TimeZone] <String>] [-WinRMHttp] [-PatchMode <String>] [-EnableHotpatching] [-AssessmentMode <String>] [-DefaultProfile <IAzureContextContainer>]"),
  ("WindowsWinRmHttps",False,"[-VM] <PSVirtualMachine> [-Windows] [[-ComputerName] <String>] [[-Credential] <PSCredential>] [[-CustomData] <String>] [-ProvisionVMAgent] [-EnableAutoUpdate] [[-TimeZone] <String>] [-WinRMHttp] [-WinRMHttps] [-WinRMCertificateUrl] <Uri> [-PatchMode <String>] [-EnableHotpatching] [-AssessmentMode <String>] [-DefaultProfile <IAzureContextContainer>]"),
  ("WindowsDisableVMAgent",False,"[-VM] <PSVirtualMachine> [-Windows] [[-ComputerName] <String>] [[-Credential] <PSCredential>] [[-CustomData] <String>] [-DisableVMAgent] [-EnableAutoUpdate] [[-TimeZone] <String>] [-WinRMHttp] [-PatchMode <String>] [-EnableHotpatching] [-AssessmentMode <String>] [-DefaultProfile <IAzureContextContainer>]"),
  ("WindowsDisableVMAgentWinRmHttps",False,"[-VM] <PSVirtualMachine> [-Windows] [[-ComputerName] <String>] [[-Credential] <PSCredential>] [[-CustomData] <String>] [-DisableVMAgent] [-EnableAutoUpdate] [[-TimeZone] <String>] [-WinRMHttp] [-WinRMHttps] [-WinRMCertificateUrl] <Uri> [-PatchMode <String>] [-EnableHotpatching] [-AssessmentMode <String>] [-DefaultProfile <IAzureContextContainer>]"),
  ("Linux",False,"[-VM] <PSVirtualMachine> [-Linux] [[-ComputerName] <String>] [[-Credential] <PSCredential>] [[-CustomData] <String>] [-PatchMode <String>] [-DisablePasswordAuthentication] [-AssessmentMode <String>] [-DefaultProfile <IAzureContextContainer>]"),
 ]),
 "Add-AzVMSshPublicKey": ("Az.Compute","src/Compute/Compute/help/Add-AzVMSshPublicKey.md","1a2afb6f5bdc7ddaeaa6458b25af7a403b4a66f8",[
  ("__AllParameterSets",True,"[-VM] <PSVirtualMachine> [[-KeyData] <String>] [[-Path] <String>] [-DefaultProfile <IAzureContextContainer>]"),
 ]),
 "Set-AzVMSourceImage": ("Az.Compute","src/Compute/Compute/help/Set-AzVMSourceImage.md","0576c60725377f2630b869816fe38db939e6901e",[
  ("ImageReferenceSkuParameterSet",True,"[-VM] <PSVirtualMachine> [-PublisherName] <String> [-Offer] <String> [-Skus] <String> [-Version] <String> [-DefaultProfile <IAzureContextContainer>]"),
  ("ImageReferenceIdParameterSet",False,"[-VM] <PSVirtualMachine> [-Id] <String> [-DefaultProfile <IAzureContextContainer>]"),
 ]),
 "Set-AzVMOSDisk": ("Az.Compute","src/Compute/Compute/help/Set-AzVMOSDisk.md","03bc37a4ff38134eabdaeb0873c480f4547059d0",[
  ("DefaultParamSet",True,"[-VM] <PSVirtualMachine> [[-Name] <String>] [[-VhdUri] <String>] [[-Caching] <CachingTypes>] [[-SourceImageUri] <String>] [[-CreateOption] <String>] [-DiskSizeInGB <Int32>] [-ManagedDiskId <String>] [-StorageAccountType <String>] [-DiskEncryptionSetId <String>] [-WriteAccelerator] [-DiffDiskSetting <String>] [-DiffDiskPlacement <String>] [-DeleteOption <String>] [-DefaultProfile <IAzureContextContainer>]"),
  ("WindowsParamSet",False,"[-VM] <PSVirtualMachine> [[-Name] <String>] [[-VhdUri] <String>] [[-Caching] <CachingTypes>] [[-SourceImageUri] <String>] [[-CreateOption] <String>] [-Windows] [-DiskSizeInGB <Int32>] [-ManagedDiskId <String>] [-StorageAccountType <String>] [-DiskEncryptionSetId <String>] [-WriteAccelerator] [-DiffDiskSetting <String>] [-DiffDiskPlacement <String>] [-DeleteOption <String>] [-DefaultProfile <IAzureContextContainer>]"),
  ("WindowsDiskEncryptionParameterSet",False,"[-VM] <PSVirtualMachine> [[-Name] <String>] [[-VhdUri] <String>] [[-Caching] <CachingTypes>] [[-SourceImageUri] <String>] [[-CreateOption] <String>] [-Windows] [-DiskEncryptionKeyUrl] <String> [-DiskEncryptionKeyVaultId] <String> [[-KeyEncryptionKeyUrl] <String>] [[-KeyEncryptionKeyVaultId] <String>] [-DiskSizeInGB <Int32>] [-ManagedDiskId <String>] [-StorageAccountType <String>] [-DiskEncryptionSetId <String>] [-WriteAccelerator] [-DiffDiskSetting <String>] [-DiffDiskPlacement <String>] [-DeleteOption <String>] [-DefaultProfile <IAzureContextContainer>]"),
  ("LinuxParamSet",False,"[-VM] <PSVirtualMachine> [[-Name] <String>] [[-VhdUri] <String>] [[-Caching] <CachingTypes>] [[-SourceImageUri] <String>] [[-CreateOption] <String>] [-Linux] [-DiskSizeInGB <Int32>] [-ManagedDiskId <String>] [-StorageAccountType <String>] [-DiskEncryptionSetId <String>] [-WriteAccelerator] [-DiffDiskSetting <String>] [-DiffDiskPlacement <String>] [-DeleteOption <String>] [-DefaultProfile <IAzureContextContainer>]"),
  ("LinuxDiskEncryptionParameterSet",False,"[-VM] <PSVirtualMachine> [[-Name] <String>] [[-VhdUri] <String>] [[-Caching] <CachingTypes>] [[-SourceImageUri] <String>] [[-CreateOption] <String>] [-Linux] [-DiskEncryptionKeyUrl] <String> [-DiskEncryptionKeyVaultId] <String> [[-KeyEncryptionKeyUrl] <String>] [[-KeyEncryptionKeyVaultId] <String>] [-DiskSizeInGB <Int32>] [-ManagedDiskId <String>] [-StorageAccountType <String>] [-DiskEncryptionSetId <String>] [-WriteAccelerator] [-DiffDiskSetting <String>] [-DiffDiskPlacement <String>] [-DeleteOption <String>] [-DefaultProfile <IAzureContextContainer>]"),
 ]),
 "Add-AzVMNetworkInterface": ("Az.Compute","src/Compute/Compute/help/Add-AzVMNetworkInterface.md","2d215d803a9b90debe59c0973e7f7b5f6fde1645",[
  ("GetNicFromNicId",True,"[-VM] <PSVirtualMachine> [-Id] <String> [-Primary] [-DefaultProfile <IAzureContextContainer>]"),
  ("GetNicFromNicObject",False,"[-VM] <PSVirtualMachine> [-NetworkInterface] <List[INetworkInterfaceReference]> [-DefaultProfile <IAzureContextContainer>]"),
 ]),
 "New-AzNetworkInterface": ("Az.Network","src/Network/Network/help/New-AzNetworkInterface.md","0b8172d89f22d2e5f694813ef7ed6e208500980c",[
  ("SetByIpConfigurationResource",True,"-Name <String> -ResourceGroupName <String> -Location <String> -IpConfiguration <PSNetworkInterfaceIPConfiguration[]> [-DnsServer <String[]>] [-InternalDnsNameLabel <String>] [-EnableIPForwarding] [-EnableAcceleratedNetworking] [-Tag <Hashtable>] [-Force] [-AsJob] [-DefaultProfile <IAzureContextContainer>] [-WhatIf] [-Confirm]"),
  ("SetByIpConfigurationResourceId",False,"-Name <String> -ResourceGroupName <String> -Location <String> -IpConfiguration <PSNetworkInterfaceIPConfiguration[]> [-NetworkSecurityGroupId <String>] [-NetworkSecurityGroup <PSNetworkSecurityGroup>] [-DnsServer <String[]>] [-InternalDnsNameLabel <String>] [-EnableIPForwarding] [-EnableAcceleratedNetworking] [-Tag <Hashtable>] [-Force] [-AsJob] [-DefaultProfile <IAzureContextContainer>] [-WhatIf] [-Confirm]"),
  ("SetByResourceId",False,"-Name <String> -ResourceGroupName <String> -Location <String> -SubnetId <String> [-PublicIpAddressId <String>] [-NetworkSecurityGroupId <String>] [-LoadBalancerBackendAddressPoolId <String[]>] [-LoadBalancerInboundNatRuleId <String[]>] [-ApplicationGatewayBackendAddressPoolId <String[]>] [-ApplicationSecurityGroupId <String[]>] [-PrivateIpAddress <String>] [-IpConfigurationName <String>] [-DnsServer <String[]>] [-InternalDnsNameLabel <String>] [-EnableIPForwarding] [-EnableAcceleratedNetworking] [-Tag <Hashtable>] [-Force] [-AsJob] [-DefaultProfile <IAzureContextContainer>] [-WhatIf] [-Confirm]"),
  ("SetByResource",False,"-Name <String> -ResourceGroupName <String> -Location <String> -Subnet <PSSubnet> [-PublicIpAddress <PSPublicIpAddress>] [-NetworkSecurityGroup <PSNetworkSecurityGroup>] [-LoadBalancerBackendAddressPool <PSBackendAddressPool[]>] [-LoadBalancerInboundNatRule <PSInboundNatRule[]>] [-ApplicationGatewayBackendAddressPool <PSApplicationGatewayBackendAddressPool[]>] [-ApplicationSecurityGroup <PSApplicationSecurityGroup[]>] [-PrivateIpAddress <String>] [-IpConfigurationName <String>] [-DnsServer <String[]>] [-InternalDnsNameLabel <String>] [-EnableIPForwarding] [-EnableAcceleratedNetworking] [-Tag <Hashtable>] [-Force] [-AsJob] [-DefaultProfile <IAzureContextContainer>] [-WhatIf] [-Confirm]"),
 ]),
 "Get-AzNetworkInterface": ("Az.Network","src/Network/Network/help/Get-AzNetworkInterface.md","070e222f80b0246f0ce01171dc4af83fb68639b1",[
  ("NoExpandStandAloneNic",True,"[-Name <String>] [-ResourceGroupName <String>] [-DefaultProfile <IAzureContextContainer>]"),
  ("ExpandStandAloneNic",False,"-Name <String> -ResourceGroupName <String> -ExpandResource <String> [-DefaultProfile <IAzureContextContainer>]"),
  ("NoExpandScaleSetNic",False,"[-Name <String>] -ResourceGroupName <String> [-VirtualMachineScaleSetName <String>] [-VirtualMachineIndex <String>] [-DefaultProfile <IAzureContextContainer>]"),
  ("ExpandScaleSetNic",False,"-Name <String> -ResourceGroupName <String> -VirtualMachineScaleSetName <String> -VirtualMachineIndex <String> -ExpandResource <String> [-DefaultProfile <IAzureContextContainer>]"),
  ("GetByResourceIdExpandParameterSet",False,"-ResourceId <String> -ExpandResource <String> [-DefaultProfile <IAzureContextContainer>]"),
  ("GetByResourceIdNoExpandParameterSet",False,"-ResourceId <String> [-DefaultProfile <IAzureContextContainer>]"),
 ]),
}
ALIASES = {"VM":["VMProfile"],"DefaultProfile":["AzContext","AzureRmContext","AzureCredential"],"Id@Add-AzVMNetworkInterface":["NicId","NetworkInterfaceId"],"Name@New-AzNetworkInterface":["ResourceName"],"Name@Set-AzVMOSDisk":["OSDiskName","DiskName"],"VhdUri":["OSDiskVhdUri","DiskVhdUri"],"SourceImageUri":["SourceImage"],"WhatIf":["wi"],"Confirm":["cf"]}
TOK = re.compile(r"\[\[-(\w+)\] <([^>]+)>\]|\[-(\w+)\] <([^>]+)>|\[-(\w+) <([^>]+)>\]|-(\w+) <([^>]+)>|\[-(\w+)\]|-(\w+)")
def parse(cmd, syn):
    out=[]; pos=0
    for m in TOK.finditer(syn):
        g=m.groups()
        if g[0]: n,t,mand,p=g[0],g[1],False,True
        elif g[2]: n,t,mand,p=g[2],g[3],True,True
        elif g[4]: n,t,mand,p=g[4],g[5],False,False
        elif g[6]: n,t,mand,p=g[6],g[7],True,False
        elif g[8]: n,t,mand,p=g[8],"SwitchParameter",False,False
        else: n,t,mand,p=g[9],"SwitchParameter",True,False
        e={"name":n,"type":t,"mandatory":mand,"position":(pos if p else None)}
        if p: pos+=1
        al=ALIASES.get(f"{n}@{cmd}", ALIASES.get(n) if not (n=="Name" and cmd in("New-AzNetworkInterface","Set-AzVMOSDisk")) else None)
        if al: e["aliases"]=al
        out.append(e)
    return out
COMMON=['Debug','ErrorAction','ErrorVariable','InformationAction','InformationVariable','OutBuffer','OutVariable','PipelineVariable','ProgressAction','Verbose','WarningAction','WarningVariable']
doc={"_source":"Parameter sets of the cmdlets the Az PowerShell VM create chain needs (New-AzNetworkInterface, New-AzVMConfig | Set-AzVMOperatingSystem | Add-AzVMSshPublicKey | Set-AzVMSourceImage | Set-AzVMOSDisk | Add-AzVMNetworkInterface | New-AzVM) that tests/data/az-cmdlets.json lacks (not in shared/cmdlets/help/azps-16.2.0). Transcribed by tests/support/az-cmdlets-vm-profile.py from the SYNTAX blocks of the platyPS help markdown in Azure/azure-powershell src/<Module>/<Module>/help/<cmdlet>.md, at the commit given per cmdlet (the stored revision read through the search tool's read_file: the newest stored, not verified to be the exact Az 16.2.0 files). Types are the short names of the SYNTAX block; positions are the order of the positional parameters in it; aliases from the PARAMETERS section. Same shape as az-cmdlets.json."}
for cmd,(mod,path,commit,sets) in SRC.items():
    doc[cmd]={"module":mod,"docsVersion":"azure-powershell main (stored revision)",
      "source":f"https://github.com/Azure/azure-powershell/blob/{commit}/{path}","sourceCommit":commit,
      "defaultParameterSet":[s for s,d,_ in sets if d][0],
      "supportsShouldProcess": cmd=="New-AzNetworkInterface",
      "azVersion":"16.2.0 (not verified: see _source)",
      "parameterSets":[{"name":s,"isDefault":d,"syntax":f"{cmd} {syn} [<CommonParameters>]","parameters":parse(cmd,syn)} for s,d,syn in sets],
      "commonParameters":COMMON}
doc["New-AzNetworkInterface"]["notes"]=["No -IfNoneMatch: -Force overwrites an existing NIC of that name without asking; without -Force it asks (ShouldContinue) when one exists. The script checks with Get-AzNetworkInterface first."]
import sys
json.dump(doc, open(sys.argv[1],"w"), indent=1); print("ok")
