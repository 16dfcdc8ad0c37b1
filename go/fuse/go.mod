module gomemguard.dev/fuse

go 1.19
