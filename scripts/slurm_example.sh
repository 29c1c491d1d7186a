#!/bin/bash
# Run an mcvar scenario on a SLURM allocation: a dask scheduler and one single-threaded worker
# per allocated core, then `mcvar run --scheduler`. Submit from the directory that should get
# the result:
#     sbatch scripts/slurm_example.sh scenarios/digits_accuracy.toml [RESULT.nc]
# Resubmitting the same command resumes: finished tasks are kept in RESULT.run/.
# (Alternative without a batch script: `mcvar run SCENARIO --cluster slurm --queue Q --cores 32
#  --jobs 4 --walltime 04:00:00` submits the worker jobs itself; needs `pip install mcvar[jobqueue]`.)
#SBATCH --job-name=mcvar
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=32
#SBATCH --cpus-per-task=1
#SBATCH --mem-per-cpu=3G
#SBATCH --time=04:00:00
#SBATCH --output=mcvar-%j.log
set -euo pipefail

SCENARIO=${1:?usage: sbatch slurm_example.sh SCENARIO.toml [RESULT.nc]}
RESULT=${2:-$(basename "$SCENARIO" .toml).nc}
SCHEDULER_FILE=$PWD/dask-scheduler-$SLURM_JOB_ID.json

# One level of parallelism: one thread per worker process, Numba and BLAS pinned to it.
# Workers compile the kernels in memory (about a minute each, once): concurrent writers to one
# on-disk Numba cache have crashed workers on shared file systems.
export NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export MCVAR_NUMBA_CACHE=0

# source ~/venvs/mcvar/bin/activate   # the environment with mcvar installed, on every node

dask scheduler --scheduler-file "$SCHEDULER_FILE" --dashboard-address :8787 &
while [ ! -s "$SCHEDULER_FILE" ]; do sleep 1; done

srun --ntasks="$SLURM_NTASKS" --cpus-per-task=1 \
    dask worker --scheduler-file "$SCHEDULER_FILE" --nthreads 1 --nworkers 1 \
    --memory-limit 3GB --local-directory "${TMPDIR:-/tmp}" &

# The client writes every finished task to RESULT.run/ at once and RESULT at the end.
mcvar run "$SCENARIO" -o "$RESULT" --scheduler "$SCHEDULER_FILE"

kill %2 %1 2>/dev/null || true
rm -f "$SCHEDULER_FILE"
