// File-system calls Node does not expose: advisory locks that the kernel drops
// when a process dies (whole-file flock locks and byte-range open-file-description
// locks), hole-aware seeking, hole punching, in-kernel copies, and
// small shared mappings (a store into one is the cheapest write that outlives the
// process).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <stdint.h>
#include <unistd.h>
#include <node_api.h>

static napi_value throw_errno(napi_env env, const char *call, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", call, strerror(err));
  napi_value code, msg, error;
  napi_create_string_utf8(env, call, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_value errno_value;
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_value syscall;
  napi_create_string_utf8(env, call, NAPI_AUTO_LENGTH, &syscall);
  napi_set_named_property(env, error, "syscall", syscall);
  napi_throw(env, error);
  return NULL;
}

static int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    napi_throw_type_error(env, NULL, "fsx: missing argument");
    return 0;
  }
  return 1;
}

static int64_t int_arg(napi_env env, napi_value v) {
  int64_t out = 0;
  napi_get_value_int64(env, v, &out);
  return out;
}

static napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

// tryLock(fd, exclusive) -> true when taken, false when another holder has it.
static napi_value try_lock(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args(env, info, 2, argv)) return NULL;
  int fd = (int)int_arg(env, argv[0]);
  bool exclusive = false;
  napi_get_value_bool(env, argv[1], &exclusive);
  int rc;
  do rc = flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  napi_value out;
  if (rc == 0) { napi_get_boolean(env, true, &out); return out; }
  if (errno == EWOULDBLOCK) { napi_get_boolean(env, false, &out); return out; }
  return throw_errno(env, "flock", errno);
}

static napi_value unlock(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args(env, info, 1, argv)) return NULL;
  if (flock((int)int_arg(env, argv[0]), LOCK_UN) != 0) return throw_errno(env, "flock", errno);
  return NULL;
}

// Byte-range locks owned by the open file description (F_OFD_*, Linux 3.15, glibc
// 2.20), not by the process as classic POSIX fcntl locks are: two descriptors opened
// separately on one file conflict even within one process, closing some other
// descriptor of the file does not drop them, and the kernel drops them when the last
// descriptor of that open file description is closed, as when its process is killed.
#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

// The (fd, offset, length) that every range call starts with, checked: integers,
// offset >= 0 and length > 0 (fcntl's length 0, "to the end and beyond", is not
// offered: a range is exactly the bytes named).
static int range_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv,
                      const char *name, int *fd, struct flock *lock) {
  if (!args(env, info, want, argv)) return 0;
  double v[3];
  for (int i = 0; i < 3; i++) {
    if (napi_get_value_double(env, argv[i], &v[i]) != napi_ok || !isfinite(v[i]) || v[i] != trunc(v[i])) {
      char message[120];
      snprintf(message, sizeof message, "%s: fd, offset and length must be integers", name);
      napi_throw_type_error(env, NULL, message);
      return 0;
    }
  }
  // 2^53: past it a double no longer names every byte.
  if (v[0] < 0 || v[0] > INT32_MAX || v[1] < 0 || v[2] <= 0 || v[1] + v[2] > 9007199254740992.0) {
    char message[160];
    snprintf(message, sizeof message, "%s: needs fd >= 0, offset >= 0 and length > 0 (got %.0f, %.0f, %.0f)",
             name, v[0], v[1], v[2]);
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  *fd = (int)v[0];
  memset(lock, 0, sizeof *lock);  // l_pid must be 0 for the F_OFD_* commands
  lock->l_whence = SEEK_SET;
  lock->l_start = (off_t)v[1];
  lock->l_len = (off_t)v[2];
  return 1;
}

static int ofd_setlk(int fd, struct flock *lock) {
  int rc;
  do rc = fcntl(fd, F_OFD_SETLK, lock);
  while (rc != 0 && errno == EINTR);
  return rc;
}

// lockRange(fd, offset, length, exclusive) -> true when taken, false when another
// open file description holds a conflicting lock on some byte of the range.
// Shared needs fd open for reading, exclusive for writing (EBADF otherwise).
static napi_value lock_range(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd;
  struct flock lock;
  if (!range_args(env, info, 4, argv, "fsx.lockRange", &fd, &lock)) return NULL;
  bool exclusive = false;
  napi_get_value_bool(env, argv[3], &exclusive);
  lock.l_type = exclusive ? F_WRLCK : F_RDLCK;
  napi_value out;
  if (ofd_setlk(fd, &lock) == 0) { napi_get_boolean(env, true, &out); return out; }
  if (errno == EAGAIN || errno == EACCES) { napi_get_boolean(env, false, &out); return out; }
  return throw_errno(env, "fcntl(F_OFD_SETLK)", errno);
}

// unlockRange(fd, offset, length): drops this open file description's locks on
// exactly those bytes (a lock over more is split); not holding one is no error.
static napi_value unlock_range(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  struct flock lock;
  if (!range_args(env, info, 3, argv, "fsx.unlockRange", &fd, &lock)) return NULL;
  lock.l_type = F_UNLCK;
  if (ofd_setlk(fd, &lock) != 0) return throw_errno(env, "fcntl(F_OFD_SETLK)", errno);
  return NULL;
}

// rangeHeldElsewhere(fd, offset, length) -> true when another open file description
// holds a lock (shared or exclusive) on some byte of the range: F_OFD_GETLK asking
// about an exclusive lock, which this description's own locks never block.
static napi_value range_held_elsewhere(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  struct flock lock;
  if (!range_args(env, info, 3, argv, "fsx.rangeHeldElsewhere", &fd, &lock)) return NULL;
  lock.l_type = F_WRLCK;
  int rc;
  do rc = fcntl(fd, F_OFD_GETLK, &lock);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) return throw_errno(env, "fcntl(F_OFD_GETLK)", errno);
  napi_value out;
  napi_get_boolean(env, lock.l_type != F_UNLCK, &out);
  return out;
}

// seek(fd, offset, wantData) -> next data (or hole) offset at or after offset; -1 past the end.
static napi_value seek(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!args(env, info, 3, argv)) return NULL;
  int fd = (int)int_arg(env, argv[0]);
  off_t offset = (off_t)int_arg(env, argv[1]);
  bool want_data = false;
  napi_get_value_bool(env, argv[2], &want_data);
  off_t at = lseek(fd, offset, want_data ? SEEK_DATA : SEEK_HOLE);
  if (at < 0) {
    if (errno == ENXIO) return number(env, -1);
    return throw_errno(env, "lseek", errno);
  }
  return number(env, (double)at);
}

// punchHole(fd, offset, length) -> true when the file system deallocated the range.
static napi_value punch_hole(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!args(env, info, 3, argv)) return NULL;
  int fd = (int)int_arg(env, argv[0]);
  int rc = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                     (off_t)int_arg(env, argv[1]), (off_t)int_arg(env, argv[2]));
  napi_value out;
  if (rc == 0) { napi_get_boolean(env, true, &out); return out; }
  if (errno == EOPNOTSUPP || errno == ENOSYS) { napi_get_boolean(env, false, &out); return out; }
  return throw_errno(env, "fallocate", errno);
}

// copyRange(fdIn, offIn, fdOut, offOut, length) -> bytes copied; 0 when the kernel cannot.
static napi_value copy_range(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args(env, info, 5, argv)) return NULL;
  int in = (int)int_arg(env, argv[0]);
  off_t off_in = (off_t)int_arg(env, argv[1]);
  int out = (int)int_arg(env, argv[2]);
  off_t off_out = (off_t)int_arg(env, argv[3]);
  int64_t left = int_arg(env, argv[4]);
  int64_t done = 0;
  while (left > 0) {
    ssize_t n = copy_file_range(in, &off_in, out, &off_out, (size_t)left, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (done == 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL))
        return number(env, 0);
      return throw_errno(env, "copy_file_range", errno);
    }
    if (n == 0) break;
    done += n;
    left -= n;
  }
  return number(env, (double)done);
}

// CRC-32C (Castagnoli, reflected 0x82F63B78): the SSE4.2 instruction where the
// processor has it, a table otherwise. Unmasked, as docs/FORMAT.md §1 defines it.
static uint32_t crc_table[8][256];

static void crc_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    crc_table[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++)
    for (int k = 1; k < 8; k++) crc_table[k][n] = crc_table[0][crc_table[k - 1][n] & 0xff] ^ (crc_table[k - 1][n] >> 8);
}

static uint32_t crc_soft(uint32_t crc, const uint8_t *p, size_t n) {
  while (n >= 8) {
    uint32_t a = crc ^ (p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
    crc = crc_table[7][a & 0xff] ^ crc_table[6][(a >> 8) & 0xff] ^ crc_table[5][(a >> 16) & 0xff] ^ crc_table[4][a >> 24]
        ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--) crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

// The crc32 instruction has a latency of three cycles and a throughput of one, so
// one chain of them runs at a third of the speed the processor can give. Long
// buffers are done as three interleaved chains over adjacent blocks of STRIDE
// bytes; the chains are joined by the register's linearity: the register after
// A‖B is shift(reg(A), |B|) xor reg0(B), where shift runs |B| zero bytes through
// the register (a fixed linear map, tabulated once per byte position).
#define STRIDE 8192
static uint32_t shift_table[4][256];
static int shift_ready;

__attribute__((target("sse4.2"))) static void shift_init(void) {
  for (int k = 0; k < 4; k++) {
    for (int v = 0; v < 256; v++) {
      uint64_t c = (uint64_t)v << (8 * k);
      for (int i = 0; i < STRIDE / 8; i++) c = _mm_crc32_u64(c, 0);
      shift_table[k][v] = (uint32_t)c;
    }
  }
  shift_ready = 1;
}

static uint32_t shift_stride(uint32_t c) {
  return shift_table[0][c & 0xff] ^ shift_table[1][(c >> 8) & 0xff] ^ shift_table[2][(c >> 16) & 0xff] ^ shift_table[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t crc_hard(uint32_t crc, const uint8_t *p, size_t n) {
  if (n >= 3 * STRIDE && !shift_ready) shift_init();
  while (n >= 3 * STRIDE) {
    uint64_t c0 = crc, c1 = 0, c2 = 0;
    const uint8_t *end = p + STRIDE;
    do {
      uint64_t w0, w1, w2;
      memcpy(&w0, p, 8);
      memcpy(&w1, p + STRIDE, 8);
      memcpy(&w2, p + 2 * STRIDE, 8);
      c0 = _mm_crc32_u64(c0, w0);
      c1 = _mm_crc32_u64(c1, w1);
      c2 = _mm_crc32_u64(c2, w2);
      p += 8;
    } while (p < end);
    crc = shift_stride(shift_stride((uint32_t)c0) ^ (uint32_t)c1) ^ (uint32_t)c2;
    p += 2 * STRIDE;
    n -= 3 * STRIDE;
  }
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t word;
    memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  crc = (uint32_t)c;
  while (n--) crc = _mm_crc32_u8(crc, *p++);
  return crc;
}
static int have_sse42;
#endif

// crc32c(bytes, seed) -> the CRC-32C of bytes, continuing from seed (a previous result).
static napi_value crc32c(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args(env, info, 2, argv)) return NULL;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "fsx.crc32c: expected a Uint8Array");
    return NULL;
  }
  uint32_t seed = 0;
  napi_get_value_uint32(env, argv[1], &seed);
  uint32_t crc = ~seed;
#if defined(__x86_64__)
  crc = have_sse42 ? crc_hard(crc, data, length) : crc_soft(crc, data, length);
#else
  crc = crc_soft(crc, data, length);
#endif
  napi_value out;
  napi_create_uint32(env, ~crc, &out);
  return out;
}

static void unmap(napi_env env, void *data, void *hint) {
  munmap(data, (size_t)(uintptr_t)hint);
}

// mapShared(fd, offset, length): a Buffer over a MAP_SHARED, read-write mapping of
// the file; unmapped when the Buffer is collected. The caller makes sure the range
// lies inside the file and is allocated (a store into a hole can fail with SIGBUS).
static napi_value map_shared(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!args(env, info, 3, argv)) return NULL;
  int fd = (int)int_arg(env, argv[0]);
  int64_t offset = int_arg(env, argv[1]);
  int64_t length = int_arg(env, argv[2]);
  long page = sysconf(_SC_PAGESIZE);
  if (offset < 0 || offset % page != 0 || length <= 0) {
    napi_throw_range_error(env, NULL, "fsx.mapShared: offset must be page-aligned and length positive");
    return NULL;
  }
  void *addr = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
  if (addr == MAP_FAILED) return throw_errno(env, "mmap", errno);
  napi_value out;
  if (napi_create_external_buffer(env, (size_t)length, addr, unmap, (void *)(uintptr_t)length, &out) != napi_ok) {
    munmap(addr, (size_t)length);
    napi_throw_error(env, NULL, "fsx.mapShared: cannot wrap the mapping");
    return NULL;
  }
  return out;
}

// syncShared(buffer): msync(MS_SYNC) of a whole mapping made by mapShared, so what
// was stored through it is on stable storage when this returns.
static napi_value sync_shared(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args(env, info, 1, argv)) return NULL;
  void *data;
  size_t length;
  if (napi_get_buffer_info(env, argv[0], &data, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "fsx.syncShared: expected a Buffer from mapShared");
    return NULL;
  }
  long page = sysconf(_SC_PAGESIZE);
  if ((uintptr_t)data % (uintptr_t)page != 0) {
    napi_throw_range_error(env, NULL, "fsx.syncShared: the Buffer is not a mapping from mapShared");
    return NULL;
  }
  if (msync(data, length, MS_SYNC) != 0) return throw_errno(env, "msync", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  crc_init();
#if defined(__x86_64__)
  __builtin_cpu_init();
  have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
  napi_property_descriptor props[] = {
    {"tryLock", NULL, try_lock, NULL, NULL, NULL, napi_default, NULL},
    {"unlock", NULL, unlock, NULL, NULL, NULL, napi_default, NULL},
    {"lockRange", NULL, lock_range, NULL, NULL, NULL, napi_default, NULL},
    {"unlockRange", NULL, unlock_range, NULL, NULL, NULL, napi_default, NULL},
    {"rangeHeldElsewhere", NULL, range_held_elsewhere, NULL, NULL, NULL, napi_default, NULL},
    {"seek", NULL, seek, NULL, NULL, NULL, napi_default, NULL},
    {"punchHole", NULL, punch_hole, NULL, NULL, NULL, napi_default, NULL},
    {"copyRange", NULL, copy_range, NULL, NULL, NULL, napi_default, NULL},
    {"crc32c", NULL, crc32c, NULL, NULL, NULL, napi_default, NULL},
    {"mapShared", NULL, map_shared, NULL, NULL, NULL, napi_default, NULL},
    {"syncShared", NULL, sync_shared, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
