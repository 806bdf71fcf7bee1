int nvmlInit_v2(void) { return 0; }
int nvmlInit(void) { return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **d) { *d = 0; return 0; }
int nvmlDeviceGetHandleByIndex(unsigned int i, void **d) { *d = 0; return 0; }
int nvmlDeviceGetPowerUsage(void *d, unsigned int *p) { *p = 0; return 0; }
int nvmlShutdown(void) { return 0; }
