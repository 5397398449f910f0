"""fn bootstrap for Python handlers.

    python <flags> bootstrap.py <entry>

Loads <entry> once and calls its `handler(input, ctx)` (a plain or an async function) for each
invocation. Frames (NDJSON, see @fn/protocol) travel on fd 3, a socket the host created, which
user code never writes to by accident. print() and anything else written to fd 1 and 2 is
captured by the host and attributed to the call in progress: this shim flushes sys.stdout and
sys.stderr before it sends a call's result, so the call's output is in the pipes by then.

FN_CONCURRENCY=N (from fn.yaml pool.concurrency) runs up to N calls at once on one asyncio event
loop: async handlers as tasks, plain ones in threads. Raw fd 1/2 output then belongs to no single
call (the host reports it as the worker's), so sys.stdout, sys.stderr (print, logging) and
ctx.log become log frames of the call whose context (contextvars) wrote them. The host may send
`cancel` for a call that timed out or lost its caller: its task is cancelled, it is answered
CANCELLED at once, and nothing more is sent for it.

Must stay importable by Python 3.9. Imports are few and cheap on purpose (asyncio, traceback and
resource load only when needed): they are paid on every cold start.
"""

import json
import os
import sys
import time

V = 1
CHANNEL = 3
try:
    CONCURRENCY = max(1, int(os.environ.get('FN_CONCURRENCY') or 1))
except ValueError:
    CONCURRENCY = 1
CODE_CHARS = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_')
# Frames left out of tracebacks: this file's (and asyncio's, once a handler is async).
SKIPPED_FRAMES = {__file__}


# --- the channel ---------------------------------------------------------------------------------
def write(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def send(frame):
    send_line(json.dumps(frame, allow_nan=False) + '\n')


def send_line(text):
    """One whole frame per write; with threads (concurrent mode) under a lock, so lines never mix."""
    if SEND_LOCK is None:
        write(CHANNEL, text.encode())
    else:
        with SEND_LOCK:
            write(CHANNEL, text.encode())


SEND_LOCK = None


def frames():
    """Yields the frames the host sends, one per line, until it closes the channel."""
    pending = bytearray()
    while True:
        chunk = os.read(CHANNEL, 1 << 16)
        if not chunk:
            return
        start = len(pending)
        pending += chunk
        end = pending.find(b'\n', start)
        while end != -1:
            line = bytes(pending[:end])
            del pending[: end + 1]
            if line.strip():
                yield json.loads(line)
            end = pending.find(b'\n')


# --- ctx -----------------------------------------------------------------------------------------
def timestamp():
    now = time.time()
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(now)) + '.%03dZ' % (now % 1 * 1000)


class Logger:
    """ctx.log: structured log entries of the invocation in progress."""

    def __init__(self, invocation):
        self._id = invocation

    def _log(self, level, message, data):
        frame = {'v': V, 'type': 'log', 'id': self._id, 'level': level, 'message': str(message),
                 'timestamp': timestamp()}
        if data is not None:
            frame['data'] = data
        if self._id in CANCELLED:
            return  # answered already: the host keeps nothing more for it
        try:
            send(frame)
        except (TypeError, ValueError, RecursionError):
            frame['data'] = repr(data)
            send(frame)

    def debug(self, message, data=None):
        self._log('debug', message, data)

    def info(self, message, data=None):
        self._log('info', message, data)

    def warn(self, message, data=None):
        self._log('warn', message, data)

    warning = warn

    def error(self, message, data=None):
        self._log('error', message, data)


class Context:
    """The second argument of the handler."""

    __slots__ = ('request_id', 'function', 'auth', 'env', 'deadline', 'log')

    def __init__(self, invocation, request, deadline):
        context = request.get('context') or {}
        self.request_id = request.get('request_id')
        self.function = request.get('function')
        self.auth = context.get('auth')
        self.env = context.get('env') or {}
        self.deadline = deadline  # epoch milliseconds, or None
        self.log = Logger(invocation)

    def remaining_ms(self):
        """Milliseconds left before the host gives up on this invocation (inf without a deadline)."""
        if self.deadline is None:
            return float('inf')
        return max(0.0, self.deadline - time.time() * 1000)

    def __repr__(self):
        return 'Context(request_id=%r, function=%r)' % (self.request_id, self.function)


# --- one invocation ------------------------------------------------------------------------------
def error_code(exc):
    """The exception's own `code` when it is an error code (^[A-Z][A-Z0-9_]*$), else FUNCTION_ERROR."""
    if isinstance(exc, MemoryError):
        return 'MEMORY_LIMIT'
    own = getattr(exc, 'code', None)
    if isinstance(own, str) and 'A' <= own[:1] <= 'Z' and set(own) <= CODE_CHARS:
        return own
    return 'FUNCTION_ERROR'


def error_body(exc, code=None):
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename in SKIPPED_FRAMES:
        tb = tb.tb_next
    name = type(exc).__name__
    try:
        message = str(exc) or name
        trace = ''.join(traceback.format_exception(type(exc), exc, tb))
    except Exception:  # a broken __str__ must not take the worker down
        message = trace = name
    return {'code': code or error_code(exc), 'message': message,
            'details': {'type': name, 'traceback': trace}}


def flush_std():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def finish(invocation, frame):
    try:
        # Compact, with output last: the host can pass the output's text on without parsing it.
        data = json.dumps(frame, allow_nan=False, separators=(',', ':'))
    except Exception as exc:
        message = '[fn] the handler returned a value that is not JSON-serialisable: %s' % exc
        data = json.dumps({'v': V, 'type': 'error', 'id': invocation,
                           'error': {'code': 'FUNCTION_ERROR', 'message': message}})
    # Everything the invocation wrote to fd 1 and 2 is in the pipes before its result.
    flush_std()
    send_line(data + '\n')


loop = None


def run(handler, request, ctx):
    """Calls the handler; an awaitable result runs to completion on one persistent event loop."""
    global loop
    result = handler(request.get('input'), ctx)
    if not hasattr(result, '__await__'):
        return result
    if loop is None:
        import asyncio

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        SKIPPED_FRAMES.update(asyncio_files(asyncio))
    return loop.run_until_complete(result)


def invoke(handler, frame):
    invocation = frame['id']
    request = frame['request']
    ctx = Context(invocation, request, frame.get('deadline'))
    try:
        output = run(handler, request, ctx)
    except Exception as exc:
        finish(invocation, {'v': V, 'type': 'error', 'id': invocation, 'error': error_body(exc)})
    else:
        finish(invocation, {'v': V, 'type': 'result', 'id': invocation, 'output': output})


# --- start ---------------------------------------------------------------------------------------
def asyncio_files(asyncio):
    folder = os.path.dirname(asyncio.__file__)
    return {os.path.join(folder, name) for name in os.listdir(folder)}


def limit_memory():
    """fn.yaml `memory`: caps the address space, so that allocations beyond it raise MemoryError."""
    mb = os.environ.get('FN_MEMORY_LIMIT_MB')
    if mb:
        import resource

        limit = int(mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def load(entry):
    """Imports the entry as a module (registered under its file name) and returns its handler."""
    import importlib.util

    name = os.path.splitext(os.path.basename(entry))[0]
    if name in sys.modules or name == '__main__':
        name = '__fn_entry__'
    spec = importlib.util.spec_from_file_location(name, entry)
    if spec is None or spec.loader is None:
        raise ImportError('%s is not a Python module' % entry)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    handler = getattr(module, 'handler', None)
    if not callable(handler):
        raise TypeError('%s has no handler: define `def handler(input, ctx):` (or `async def`)' % entry)
    return handler


def main():
    entry = os.path.abspath(sys.argv[1])
    # User code must neither see this folder as its own nor inherit the channel.
    sys.path[0] = os.path.dirname(entry)
    sys.argv = [entry]
    try:
        os.set_inheritable(CHANNEL, False)
    except OSError:
        sys.exit('[fn] bootstrap.py talks to fn over fd 3, which is not open: fn starts it, not a shell')
    if CONCURRENCY > 1:
        capture_streams()
    try:
        limit_memory()
        handler = load(entry)
    except (Exception, SystemExit) as exc:
        body = error_body(exc, 'BUILD_FAILED')
        body['message'] = '[fn] could not load %s: %s: %s' % (entry, type(exc).__name__, body['message'])
        flush_std()
        send({'v': V, 'type': 'error', 'error': body})
        sys.exit(1)
    send({'v': V, 'type': 'ready', 'pid': os.getpid(), 'concurrency': CONCURRENCY,
          'runtime': 'python %d.%d.%d' % sys.version_info[:3]})
    if CONCURRENCY > 1:
        serve_concurrently(handler)
        return
    for frame in frames():
        kind = frame.get('type')
        if kind == 'invoke':
            invoke(handler, frame)
        elif kind == 'shutdown':
            break


# --- several calls at once (FN_CONCURRENCY > 1) --------------------------------------------------
CURRENT = None  # contextvars.ContextVar: the id of the call this code runs for
CANCELLED = set()  # calls answered CANCELLED: whatever they still do is dropped


class CallStream(object):
    """sys.stdout / sys.stderr in concurrent mode: lines become log frames of the current call;
    outside any call, text goes to the real stream."""

    def __init__(self, real, level):
        import threading

        self._real = real
        self._level = level
        self._partial = {}
        self._lock = threading.Lock()

    def write(self, text):
        invocation = CURRENT.get()
        if invocation is None:
            return self._real.write(text)
        if invocation in CANCELLED:
            return len(text)
        with self._lock:
            pending = self._partial.pop(invocation, '') + text
            lines = pending.split('\n')
            rest = lines.pop()
            if rest:
                self._partial[invocation] = rest
        for line in lines:
            Logger(invocation)._log(self._level, line, None)
        return len(text)

    def end(self, invocation):
        """The call is over: its unfinished last line is sent."""
        with self._lock:
            rest = self._partial.pop(invocation, '')
        if rest and invocation not in CANCELLED:
            Logger(invocation)._log(self._level, rest, None)

    def flush(self):
        self._real.flush()

    def __getattr__(self, name):
        return getattr(self._real, name)


def capture_streams():
    global CURRENT, SEND_LOCK
    import contextvars
    import threading

    CURRENT = contextvars.ContextVar('fn_invocation', default=None)
    SEND_LOCK = threading.Lock()
    sys.stdout = CallStream(sys.stdout, 'info')
    sys.stderr = CallStream(sys.stderr, 'error')


def serve_concurrently(handler):
    import asyncio
    import contextvars
    import inspect
    from concurrent.futures import ThreadPoolExecutor

    pool = []

    def threads():
        if not pool:
            pool.append(ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix='fn-call'))
        return pool[0]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    SKIPPED_FRAMES.update(asyncio_files(asyncio))
    is_async = inspect.iscoroutinefunction(handler)
    tasks = {}
    done = loop.create_future()
    pending = bytearray()

    async def call(frame):
        invocation = frame['id']
        CURRENT.set(invocation)  # this task's own context: its prints and logs carry its id
        request = frame['request']
        ctx = Context(invocation, request, frame.get('deadline'))
        work = None
        try:
            if is_async:
                output = await handler(request.get('input'), ctx)
            else:
                # A plain handler runs in a thread (with this context), so it does not stop the loop.
                # A cancel cannot stop the thread: the call's id stays in CANCELLED (its prints
                # are dropped) until the thread is done.
                work = threads().submit(contextvars.copy_context().run, handler, request.get('input'), ctx)
                work.add_done_callback(lambda _: CANCELLED.discard(invocation))
                output = await asyncio.wrap_future(work)
                if hasattr(output, '__await__'):
                    output = await output
            result = {'v': V, 'type': 'result', 'id': invocation, 'output': output}
        except asyncio.CancelledError:
            if work is None or work.done():
                CANCELLED.discard(invocation)  # the call is over: nothing more can come from it
            return
        except Exception as exc:
            result = {'v': V, 'type': 'error', 'id': invocation, 'error': error_body(exc)}
        finally:
            tasks.pop(invocation, None)
            sys.stdout.end(invocation)
            sys.stderr.end(invocation)
        if invocation not in CANCELLED:
            finish(invocation, result)
        else:
            CANCELLED.discard(invocation)  # a result that crossed the cancel: the call is over

    def cancel(invocation):
        task = tasks.pop(invocation, None)
        if task is None:
            return  # answered already
        CANCELLED.add(invocation)
        task.cancel()
        message = '[fn] invocation %s was cancelled by the host' % invocation
        send({'v': V, 'type': 'error', 'id': invocation,
              'error': {'code': 'CANCELLED', 'message': message}})

    def stop():
        loop.remove_reader(CHANNEL)
        if not done.done():
            done.set_result(None)

    def readable():
        chunk = os.read(CHANNEL, 1 << 16)
        if not chunk:
            return stop()
        start = len(pending)
        pending.extend(chunk)
        end = pending.find(b'\n', start)
        while end != -1:
            line = bytes(pending[:end])
            del pending[: end + 1]
            end = pending.find(b'\n')
            if not line.strip():
                continue
            frame = json.loads(line)
            kind = frame.get('type')
            if kind == 'invoke':
                tasks[frame['id']] = loop.create_task(call(frame))
            elif kind == 'cancel':
                cancel(frame.get('id'))
            elif kind == 'shutdown':
                return stop()

    async def serve():
        loop.add_reader(CHANNEL, readable)
        await done
        # Calls in flight finish before the worker exits.
        while tasks:
            await asyncio.gather(*list(tasks.values()), return_exceptions=True)

    loop.run_until_complete(serve())


if __name__ == '__main__':
    main()
