"""Pictures for bench/numa/run.py: fig8.png, the modelled run time of each
workload with the policy off and on, broken down as in the paper's Fig. 8
(policy off = 100), and table3.png, the share of cache misses served
locally (the paper's Table 3)."""

import os


def draw(table, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [("user", "user", "#4c72b0"), ("kernel", "kernel", "#55a868"),
             ("local_stall", "local stall", "#c4c4c4"), ("remote_stall", "remote stall", "#c44e52"),
             ("policy", "policy", "#8172b2")]
    labels, stacks = [], {k: [] for k, _, _ in parts}
    for kind, row in table.items():
        base = row["off"]["modelled_seconds"]
        for policy, name in (("off", "policy off"), ("both", "migration +\nreplication")):
            labels.append(f"{kind}\n{name}")
            for k, _, _ in parts:
                stacks[k].append(100 * row[policy]["time"][k] / base)
    fig, ax = plt.subplots(figsize=(1.6 * len(labels) + 1.5, 4.5))
    bottom = [0.0] * len(labels)
    for k, name, colour in parts:
        ax.bar(labels, stacks[k], bottom=bottom, label=name, color=colour, width=0.6)
        bottom = [b + v for b, v in zip(bottom, stacks[k])]
    for i, b in enumerate(bottom):
        ax.text(i, b + 1, f"{b:.0f}", ha="center", va="bottom")
    ax.set_ylabel("modelled run time (policy off = 100)")
    ax.set_title("Fig. 8: page migration and replication on the modelled ccNUMA machine")
    ax.legend(loc="upper right", fontsize="small")
    ax.set_ylim(0, max(bottom) * 1.15)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "fig8.png"), dpi=110)
    plt.close(fig)

    kinds = list(table)
    fig, ax = plt.subplots(figsize=(2.2 * len(kinds) + 1.5, 3.8))
    width = 0.35
    xs = range(len(kinds))
    off = [100 * table[k]["off"]["local_share"] for k in kinds]
    on = [100 * table[k]["both"]["local_share"] for k in kinds]
    ax.bar([x - width / 2 for x in xs], off, width, label="policy off", color="#c44e52")
    ax.bar([x + width / 2 for x in xs], on, width, label="migration + replication", color="#4c72b0")
    for x, a, b in zip(xs, off, on):
        ax.text(x - width / 2, a + 1, f"{a:.0f}%", ha="center")
        ax.text(x + width / 2, b + 1, f"{b:.0f}%", ha="center")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(kinds)
    ax.set_ylim(0, 110)
    ax.set_ylabel("cache misses served locally (%)")
    ax.set_title("Table 3: local misses")
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "table3.png"), dpi=110)
    plt.close(fig)
