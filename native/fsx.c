// File-system calls Node does not expose: advisory locks that the kernel drops
// when a process dies, hole-aware seeking, hole punching and in-kernel copies.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"tryLock", NULL, try_lock, NULL, NULL, NULL, napi_default, NULL},
    {"unlock", NULL, unlock, NULL, NULL, NULL, napi_default, NULL},
    {"seek", NULL, seek, NULL, NULL, NULL, napi_default, NULL},
    {"punchHole", NULL, punch_hole, NULL, NULL, NULL, napi_default, NULL},
    {"copyRange", NULL, copy_range, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
