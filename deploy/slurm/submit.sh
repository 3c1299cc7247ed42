#!/usr/bin/env bash
# Submits an `hcp sweep` to Slurm: the shards as one array (or several, when
# the site's MaxArraySize is smaller than the number of shards) and a merge
# job that starts once every task has succeeded (afterok) and is cancelled
# if one fails for good.
#
#   HCP_OUT=/shared/hcp/ref HCP_SCENARIO=reference HCP_REPLICATIONS=1000 \
#     deploy/slurm/submit.sh SHARDS [extra sbatch flags for the array...]
#
# SHARDS: number of shards N (array tasks); each runs replications
# r mod N = i − 1. HCP_ARRAY_MAX (default: the cluster's MaxArraySize − 1,
# or 1000): the most tasks per array; more shards are split into several
# arrays with HCP_SHARD_OFFSET set per array and HCP_SHARD_COUNT = N.
# HCP_ARRAY_PARALLEL: at most that many tasks of each array at once (%P).
# Prints the array job ids and then the merge job id, one per line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shards="${1:?usage: submit.sh SHARDS [sbatch flags...]}"
shift
: "${HCP_OUT:?set HCP_OUT to the output folder of the sweep (shared filesystem)}"

if [ -z "${HCP_ARRAY_MAX:-}" ]; then
  site_max=$(scontrol show config 2>/dev/null | sed -n 's/^MaxArraySize *= *\([0-9]*\).*/\1/p')
  HCP_ARRAY_MAX=$(( ${site_max:-1001} - 1 ))
fi
export HCP_SHARD_COUNT="$shards"
parallel="${HCP_ARRAY_PARALLEL:+%$HCP_ARRAY_PARALLEL}"

arrays=()
offset=0
while [ "$offset" -lt "$shards" ]; do
  size=$(( shards - offset < HCP_ARRAY_MAX ? shards - offset : HCP_ARRAY_MAX ))
  id=$(HCP_SHARD_OFFSET="$offset" sbatch --parsable --array="0-$((size - 1))$parallel" \
        "$@" "$here/sweep-array.sbatch")
  id="${id%%;*}"
  echo "$id"
  arrays+=("$id")
  offset=$(( offset + size ))
done

deps=$(IFS=:; echo "${arrays[*]}")
merge=$(sbatch --parsable --dependency="afterok:$deps" --kill-on-invalid-dep=yes \
          "$here/sweep-merge.sbatch")
echo "${merge%%;*}"
