"""A stand-in for training/adapt.py in the child-process tests: the same output protocol (JSON lines on stdout,
exit codes 2/3/4), its behaviour chosen by --mode, and it reports the bounds it was started with."""
import json, os, resource, signal, sys, time

args = sys.argv[1:]
mode = args[args.index('--mode') + 1]
threads = args[args.index('--threads') + 1]
stopping = []
if '--pid-file' in args:
    with open(args[args.index('--pid-file') + 1], 'w') as f:
        f.write(str(os.getpid()))
if mode != 'ignore-term':
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
else:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode == 'no-torch':
    sys.stderr.write('adapt: PyTorch is needed (No module named torch)\n')
    sys.exit(3)
if mode == 'bad-card':
    sys.stderr.write('adapt: models/x.json names no PyTorch checkpoint\n')
    sys.exit(2)
steps = 3 if mode == 'ok' else 10_000
for step in range(1, steps + 1):
    if stopping:
        sys.stderr.write('adapt: stopped by signal 15: nothing written\n')
        sys.exit(4)
    print(json.dumps({'step': step, 'steps': steps, 'loss': 1 / step, 'etaSeconds': steps - step}), flush=True)
    time.sleep(0.05 if mode == 'ok' else 0.2)
print('a line that is not JSON', flush=True)
print(json.dumps({'done': True, 'steps': steps, 'seconds': 0.2, 'pid': os.getpid(), 'threadsArg': threads,
                  'omp': os.environ.get('OMP_NUM_THREADS'), 'mkl': os.environ.get('MKL_NUM_THREADS'),
                  'addressSpace': resource.getrlimit(resource.RLIMIT_AS)[0], 'nice': os.nice(0),
                  'secret': os.environ.get('GLOMSEG_TEST_SECRET')}), flush=True)
