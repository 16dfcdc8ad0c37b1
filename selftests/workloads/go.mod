module gomemguard/workloads

go 1.19
