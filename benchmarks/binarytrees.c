/* Benchmark: binary-trees (the Computer Language Benchmarks Game algorithm), the C baseline for
 * binarytrees.kl: every node is one malloc and one free. Builds a stretch tree, a long-lived
 * tree, and many short-lived trees of growing depth, counting the nodes of each with a recursive
 * check and freeing each tree after checking it. The maximum depth N is the first argument
 * (default 10). */
#include <stdio.h>
#include <stdlib.h>

struct node {
    struct node *left, *right;
};

static struct node *bottom_up(int depth) {
    struct node *n = malloc(sizeof *n);
    if (!n) {
        exit(1);
    }
    if (depth > 0) {
        n->left = bottom_up(depth - 1);
        n->right = bottom_up(depth - 1);
    } else {
        n->left = NULL;
        n->right = NULL;
    }
    return n;
}

static long check(const struct node *n) {
    if (!n->left) {
        return 1;
    }
    return 1 + check(n->left) + check(n->right);
}

static void delete_tree(struct node *n) {
    if (n->left) {
        delete_tree(n->left);
        delete_tree(n->right);
    }
    free(n);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10;
    int min_depth = 4;
    int max_depth = min_depth + 2 > n ? min_depth + 2 : n;
    int stretch_depth = max_depth + 1;

    struct node *stretch = bottom_up(stretch_depth);
    printf("stretch tree of depth %d\t check: %ld\n", stretch_depth, check(stretch));
    delete_tree(stretch);

    struct node *long_lived = bottom_up(max_depth);
    for (int depth = min_depth; depth <= max_depth; depth += 2) {
        long iterations = 1L << (max_depth - depth + min_depth);
        long total = 0;
        for (long i = 0; i < iterations; i++) {
            struct node *t = bottom_up(depth);
            total += check(t);
            delete_tree(t);
        }
        printf("%ld\t trees of depth %d\t check: %ld\n", iterations, depth, total);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(long_lived));
    delete_tree(long_lived);
    return 0;
}
