/* A stand-in for the CUDA driver, so that TornadoVM's PTX backend JIT-compiles kernels on a machine without a GPU:
 * memory is host memory, launches do nothing, modules are written to $FAKECUDA_DUMP (default /tmp/fakecuda). */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
static int counter = 0;
static int capturing = 0, invalid = 0, captures = 0;
#define CAPTURE_GUARD(name) if (capturing) { fprintf(stderr, "[fakecuda] %s during capture %d\n", name, captures); invalid = 1; return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED; }
#define INVALID_GUARD if (capturing && invalid) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
CUresult cuInit(unsigned int f) { return CUDA_SUCCESS; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return CUDA_SUCCESS; }
CUresult cuDeviceGetCount(int *c) { *c = 1; return CUDA_SUCCESS; }
CUresult cuDeviceGet(CUdevice *d, int o) { *d = 0; return CUDA_SUCCESS; }
CUresult cuDeviceGetName(char *n, int len, CUdevice d) { strncpy(n, "NVIDIA H200", len); return CUDA_SUCCESS; }
CUresult cuDeviceTotalMem(size_t *b, CUdevice d) { *b = 16ull << 30; return CUDA_SUCCESS; }
CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d) {
    switch (a) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 132; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X: case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: *v = 64; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: *v = 2147483647; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: *v = 65535; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *v = 49152; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = 232448; break;
    case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *v = 32; break;
    case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: *v = 1980000; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: *v = 2048; break;
    case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY: *v = 65536; break;
    case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *v = 52428800; break;
    default: *v = 1; break;
    }
    return CUDA_SUCCESS;
}
CUresult cuCtxCreate(CUcontext *c, CUctxCreateParams *p, unsigned int f, CUdevice d) { *c = (CUcontext) malloc(8); return CUDA_SUCCESS; }
CUresult cuCtxCreate_v2(CUcontext *c, unsigned int f, CUdevice d) { *c = (CUcontext) malloc(8); return CUDA_SUCCESS; }
CUresult cuCtxDestroy(CUcontext c) { return CUDA_SUCCESS; }
CUresult cuCtxSetCurrent(CUcontext c) { return CUDA_SUCCESS; }
CUresult cuMemGetInfo(size_t *f, size_t *t) { *f = 15ull << 30; *t = 16ull << 30; return CUDA_SUCCESS; }
/* Device allocations, so that a copy reaching past one is refused as the real driver refuses it (invalid value),
 * with a line on stderr naming the copy instead of a silent overwrite of host memory. */
typedef struct { char *at; size_t size; } Allocation;
static Allocation *allocations;
static size_t allocationCount, allocationCapacity;
static void remember(void *at, size_t size) {
    if (allocationCount == allocationCapacity) {
        allocationCapacity = allocationCapacity ? 2 * allocationCapacity : 1024;
        allocations = realloc(allocations, allocationCapacity * sizeof(Allocation));
    }
    allocations[allocationCount++] = (Allocation) {(char *) at, size};
}
static void forget(void *at) {
    for (size_t i = 0; i < allocationCount; i++) {
        if (allocations[i].at == (char *) at) { allocations[i] = allocations[--allocationCount]; return; }
    }
}
static int outside(const char *what, CUdeviceptr d, size_t n) {
    const char *p = (const char *) d;
    const Allocation *below = NULL;
    for (size_t i = 0; i < allocationCount; i++) {
        const Allocation *a = &allocations[i];
        if (p >= a->at && p < a->at + a->size) {
            if (n <= (size_t) (a->at + a->size - p)) return 0;
            below = a;
            break;
        }
    }
    if (below) {
        fprintf(stderr, "[fakecuda] %s of %zu bytes at offset %zu of a %zu-byte allocation: past its end\n", what, n,
                (size_t) (p - below->at), below->size);
    } else {
        fprintf(stderr, "[fakecuda] %s of %zu bytes at %p: in no allocation\n", what, n, (const void *) p);
    }
    return 1;
}
CUresult cuMemAlloc(CUdeviceptr *p, size_t n) { CAPTURE_GUARD("cuMemAlloc") void *m = calloc(1, n ? n : 1); if (!m) return CUDA_ERROR_OUT_OF_MEMORY; remember(m, n ? n : 1); *p = (CUdeviceptr) m; return CUDA_SUCCESS; }
CUresult cuMemFree(CUdeviceptr p) { forget((void *) p); free((void *) p); return CUDA_SUCCESS; }
CUresult cuMemAllocHost(void **p, size_t n) { *p = calloc(1, n ? n : 1); return CUDA_SUCCESS; }
CUresult cuMemFreeHost(void *p) { free(p); return CUDA_SUCCESS; }
CUresult cuMemHostRegister(void *p, size_t n, unsigned int f) { CAPTURE_GUARD("cuMemHostRegister") return CUDA_SUCCESS; }
CUresult cuMemHostUnregister(void *p) { return CUDA_SUCCESS; }
CUresult cuMemcpyHtoDAsync(CUdeviceptr d, const void *s, size_t n, CUstream st) { INVALID_GUARD if (outside("host-to-device copy", d, n)) return CUDA_ERROR_INVALID_VALUE; memcpy((void *) d, s, n); return CUDA_SUCCESS; }
CUresult cuMemcpyDtoHAsync(void *d, CUdeviceptr s, size_t n, CUstream st) { INVALID_GUARD if (outside("device-to-host copy", s, n)) return CUDA_ERROR_INVALID_VALUE; memcpy(d, (void *) s, n); return CUDA_SUCCESS; }
CUresult cuMemcpyHtoDAsync_v2_ptsz(CUdeviceptr d, const void *s, size_t n, CUstream st) { if (outside("host-to-device copy", d, n)) return CUDA_ERROR_INVALID_VALUE; memcpy((void *) d, s, n); return CUDA_SUCCESS; }
CUresult cuMemcpyDtoHAsync_v2_ptsz(void *d, CUdeviceptr s, size_t n, CUstream st) { if (outside("device-to-host copy", s, n)) return CUDA_ERROR_INVALID_VALUE; memcpy(d, (void *) s, n); return CUDA_SUCCESS; }
CUresult cuStreamCreateWithPriority(CUstream *s, unsigned int f, int p) { *s = (CUstream) malloc(8); return CUDA_SUCCESS; }
CUresult cuStreamDestroy(CUstream s) { return CUDA_SUCCESS; }
CUresult cuStreamSynchronize(CUstream s) { CAPTURE_GUARD("cuStreamSynchronize") return CUDA_SUCCESS; }
CUresult cuStreamWaitEvent(CUstream s, CUevent e, unsigned int f) { return CUDA_SUCCESS; }
CUresult cuStreamIsCapturing(CUstream s, CUstreamCaptureStatus *c) { *c = capturing ? (invalid ? CU_STREAM_CAPTURE_STATUS_INVALIDATED : CU_STREAM_CAPTURE_STATUS_ACTIVE) : CU_STREAM_CAPTURE_STATUS_NONE; return CUDA_SUCCESS; }
CUresult cuStreamBeginCapture(CUstream s, CUstreamCaptureMode m) { capturing = 1; invalid = 0; captures++; if (getenv("FAKECUDA_VERBOSE")) fprintf(stderr, "[fakecuda] begin capture %d\n", captures); return CUDA_SUCCESS; }
CUresult cuStreamEndCapture(CUstream s, CUgraph *g) { capturing = 0; if (invalid) { *g = 0; fprintf(stderr, "[fakecuda] capture %d invalidated\n", captures); return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED; } *g = (CUgraph) malloc(8); return CUDA_SUCCESS; }
CUresult cuGraphInstantiate(CUgraphExec *e, CUgraph g, unsigned long long f) { if (!g) { *e = 0; return CUDA_ERROR_INVALID_VALUE; } *e = (CUgraphExec) malloc(8); return CUDA_SUCCESS; }
CUresult cuGraphLaunch(CUgraphExec e, CUstream s) { return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
CUresult cuGraphExecDestroy(CUgraphExec e) { return CUDA_SUCCESS; }
CUresult cuGraphDestroy(CUgraph g) { return CUDA_SUCCESS; }
CUresult cuEventCreate(CUevent *e, unsigned int f) { *e = (CUevent) malloc(8); return CUDA_SUCCESS; }
CUresult cuEventRecord(CUevent e, CUstream s) { return CUDA_SUCCESS; }
CUresult cuEventQuery(CUevent e) { CAPTURE_GUARD("cuEventQuery") return CUDA_SUCCESS; }
CUresult cuEventSynchronize(CUevent e) { CAPTURE_GUARD("cuEventSynchronize") return CUDA_SUCCESS; }
CUresult cuEventElapsedTime(float *ms, CUevent a, CUevent b) { *ms = 0.001f; return CUDA_SUCCESS; }
CUresult cuEventDestroy(CUevent e) { return CUDA_SUCCESS; }
static CUresult dump(const void *image) {
    const char *dir = getenv("FAKECUDA_DUMP");
    if (!dir) dir = "/tmp/fakecuda";
    mkdir(dir, 0755);
    char path[4096];
    snprintf(path, sizeof path, "%s/module-%03d.ptx", dir, counter++);
    FILE *f = fopen(path, "w");
    if (f) { fputs((const char *) image, f); fclose(f); }
    return CUDA_SUCCESS;
}
CUresult cuModuleLoadData(CUmodule *m, const void *image) { *m = (CUmodule) malloc(8); return dump(image); }
CUresult cuModuleLoadDataEx(CUmodule *m, const void *image, unsigned int n, CUjit_option *o, void **v) { *m = (CUmodule) malloc(8); return dump(image); }
CUresult cuModuleUnload(CUmodule m) { return CUDA_SUCCESS; }
CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name) { *f = (CUfunction) malloc(8); return CUDA_SUCCESS; }
CUresult cuOccupancyMaxPotentialBlockSize(int *g, int *b, CUfunction f, CUoccupancyB2DSize s, size_t d, int l) { *g = 132; *b = 256; return CUDA_SUCCESS; }
CUresult cuLaunchKernel_(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz, unsigned int sm, CUstream s, void **p, void **e) { return CUDA_SUCCESS; }
CUresult cuGetErrorName(CUresult e, const char **s) { *s = "CUDA_ERROR_FAKE"; return CUDA_SUCCESS; }
CUresult cuGetErrorString(CUresult e, const char **s) { *s = "fake"; return CUDA_SUCCESS; }
CUresult cuCtxGetStreamPriorityRange(int *lo, int *hi) { *lo = 0; *hi = -5; return CUDA_SUCCESS; }
CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz, unsigned int sm, CUstream s, void **p, void **e) { INVALID_GUARD return CUDA_SUCCESS; }
