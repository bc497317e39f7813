// AvlTree: an order-statistic AVL tree. A sorted set of unique keys that also
// answers "how many keys are smaller than x" (Rank) and "which key has rank i"
// (Select) in O(log n). Backs sorted sets (ZRANK, ZRANGE, ZCOUNT; see
// sorted_set.h) and the NUMERIC field range indexes of FT.* search, whose keys
// are (double value, uint64 doc id) pairs, so Key stays generic.
//
// Design:
//  - Each node stores its key, two child pointers, a parent pointer, a 32-bit
//    subtree size and an 8-bit height. Subtree sizes give Rank/Select;
//    heights keep the tree balanced (|height(left) - height(right)| <= 1
//    everywhere, so the height is at most 1.44 log2(n + 2)).
//  - Descents pick the child by index (child[!go_left]), not by a branch: a
//    comparison against a random key is a coin flip for the branch predictor.
//    Inserts bump subtree sizes on the way down, and the fix-up walk stops
//    recomputing heights as soon as a subtree keeps its old height.
//  - Parent pointers (rather than explicit search stacks) because iteration is
//    the hot path of ZRANGE and range scans: ++/-- on an iterator is amortised
//    O(1) with no allocation, iterators are plain (tree, node) pairs, and erase
//    can start rebalancing from any node the caller reached by rank. The price
//    is one pointer per node and a few more stores per rotation.
//  - Erase relinks the successor node into the erased node's place instead of
//    swapping keys, so an erase invalidates only iterators to the erased key
//    (std::set's rule), and Key needs no move-assignment.
//  - Nodes come from `Allocator`, std::allocator by default. The slab pool in
//    node_pool.h was measured (docs/benchmarks/avl.md): it inserts faster (no
//    malloc call, no chunk header), but it keeps freed nodes captive and costs
//    a slab per tree, which is wrong for many small, shrinking sorted sets.
//    One big NUMERIC index tree can opt in.
//  - Rejected: a treap or skip list (Redis's choice) needs randomness and gives
//    only expected bounds; a B-tree (valkey-search's numeric_btree) has better
//    cache behaviour but far more code for rank maintenance. Classic 2-bit
//    balance factors instead of heights (no sibling reads on insert) were
//    implemented and measured: equal speed within noise, three times the
//    fix-up code.
//
// Thread safety: none. Concurrent const calls are safe; any mutation needs
// exclusive access (the owning keyspace serialises access).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ragkv::avl {

// `Allocator` (default std::allocator) is rebound to allocate nodes; it must
// use raw pointers. It moves with the tree.
template <typename Key, typename Compare = std::less<Key>,
          typename Allocator = std::allocator<Key>>
class AvlTree {
  struct Node;

 public:
  // A bidirectional iterator over keys in ascending order. Valid until the key
  // it points to is erased or the tree is cleared, moved from or destroyed.
  // Decrementing end() yields the largest key.
  class ConstIterator {
   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = Key;
    using difference_type = std::ptrdiff_t;
    using pointer = const Key*;
    using reference = const Key&;

    ConstIterator() = default;
    reference operator*() const { return node_->key; }
    pointer operator->() const { return &node_->key; }
    ConstIterator& operator++() {
      node_ = Successor(node_);
      return *this;
    }
    ConstIterator operator++(int) {
      ConstIterator old = *this;
      ++*this;
      return old;
    }
    ConstIterator& operator--() {
      node_ = node_ == nullptr ? MaxNode(tree_->root_) : Predecessor(node_);
      return *this;
    }
    ConstIterator operator--(int) {
      ConstIterator old = *this;
      --*this;
      return old;
    }
    friend bool operator==(const ConstIterator& a, const ConstIterator& b) {
      return a.node_ == b.node_;
    }

   private:
    friend class AvlTree;
    ConstIterator(const AvlTree* tree, Node* node) : tree_(tree), node_(node) {}
    const AvlTree* tree_ = nullptr;
    Node* node_ = nullptr;  // nullptr is end()
  };

  AvlTree() = default;
  explicit AvlTree(Compare compare, const Allocator& alloc = Allocator())
      : compare_(std::move(compare)), alloc_(alloc) {}
  ~AvlTree() { Clear(); }

  AvlTree(const AvlTree&) = delete;
  AvlTree& operator=(const AvlTree&) = delete;
  AvlTree(AvlTree&& other) noexcept
      : compare_(std::move(other.compare_)),
        alloc_(std::move(other.alloc_)),
        root_(std::exchange(other.root_, nullptr)) {}
  AvlTree& operator=(AvlTree&& other) noexcept {
    if (this != &other) {
      Clear();
      compare_ = std::move(other.compare_);
      alloc_ = std::move(other.alloc_);
      root_ = std::exchange(other.root_, nullptr);
    }
    return *this;
  }

  // Subtree sizes are 32-bit (see Node): at ~60 bytes a node, 4 billion keys
  // would need far more memory than any maxmemory allows.
  static constexpr size_t kMaxSize = UINT32_MAX;

  size_t size() const { return SizeOf(root_); }
  bool empty() const { return root_ == nullptr; }
  // Height of the tree (0 when empty). For tests and diagnostics.
  int height() const { return HeightOf(root_); }

  // Inserts `key`. Returns false, leaving the tree unchanged, if an equal key
  // is already present. REQUIRES: size() < kMaxSize. O(log n).
  bool Insert(const Key& key) { return InsertImpl(key); }
  bool Insert(Key&& key) { return InsertImpl(std::move(key)); }

  // Removes the key equal to `key`. Returns false if there is none. O(log n).
  bool Erase(const Key& key) {
    Node* node = FindNode(key);
    if (node == nullptr) return false;
    EraseNode(node);
    return true;
  }

  // Removes the key `it` points to and returns an iterator to its successor.
  // REQUIRES: `it` is a valid, dereferenceable iterator of this tree. O(log n).
  ConstIterator Erase(ConstIterator it) {
    Node* next = Successor(it.node_);
    EraseNode(it.node_);
    return ConstIterator(this, next);
  }

  // Replaces the key `it` points to with `key` if that keeps the order
  // (predecessor < key < successor), like Redis's zslUpdateScore fast path;
  // otherwise returns false and changes nothing. Saves the erase + insert of
  // small score updates (ZINCRBY). REQUIRES: `it` is dereferenceable.
  // O(1) amortised, O(log n) worst case.
  bool ReplaceInPlace(ConstIterator it, Key key) {
    Node* node = it.node_;
    const Node* prev = Predecessor(node);
    const Node* next = Successor(node);
    if ((prev != nullptr && !compare_(prev->key, key)) ||
        (next != nullptr && !compare_(key, next->key))) {
      return false;
    }
    node->key = std::move(key);
    return true;
  }

  // Returns the stored key equal to `key`, or nullptr. O(log n).
  const Key* Find(const Key& key) const {
    const Node* node = FindNode(key);
    return node == nullptr ? nullptr : &node->key;
  }
  bool Contains(const Key& key) const { return FindNode(key) != nullptr; }

  // Returns the number of keys strictly less than `key`; this is also the rank
  // of the first key >= `key` (lower bound). O(log n).
  size_t Rank(const Key& key) const {
    return PartitionPoint([&](const Key& k) { return compare_(k, key); });
  }
  // Returns the number of keys <= `key` (the rank of the first key > `key`).
  size_t UpperBoundRank(const Key& key) const {
    return PartitionPoint([&](const Key& k) { return !compare_(key, k); });
  }

  // Returns the number of keys k for which pred(k) is true.
  // REQUIRES: the tree is partitioned by `pred`: every key for which it is true
  // precedes every key for which it is false (pred is "k is below the bound").
  // Lets callers search with a bound that is not a Key, e.g. "score < 1.5" in
  // a tree ordered by (score, member). O(log n).
  template <typename Pred>
  size_t PartitionPoint(Pred pred) const {
    size_t rank = 0;
    for (const Node* node = root_; node != nullptr;) {
      const bool below = pred(node->key);
      rank += below ? SizeOf(node->left()) + 1 : 0;
      node = node->child[below];
    }
    return rank;
  }

  // Returns the key of rank `rank` (0 = smallest), or nullptr if rank >= size().
  // O(log n).
  const Key* Select(size_t rank) const {
    Node* node = SelectNode(rank);
    return node == nullptr ? nullptr : &node->key;
  }

  ConstIterator begin() const { return ConstIterator(this, MinNode(root_)); }
  ConstIterator end() const { return ConstIterator(this, nullptr); }
  // Returns an iterator to the key of rank `rank`, or end() if rank >= size().
  // Iterate forwards with ++ or backwards with --. O(log n).
  ConstIterator IteratorAt(size_t rank) const { return ConstIterator(this, SelectNode(rank)); }
  // Iterator to the first key >= `key`, or end(). O(log n).
  ConstIterator LowerBound(const Key& key) const {
    Node* best = nullptr;
    for (Node* node = root_; node != nullptr;) {
      const bool below = compare_(node->key, key);
      best = below ? best : node;
      node = node->child[below];
    }
    return ConstIterator(this, best);
  }

  // Removes the keys with ranks in [first, last), calling on_erase(key) for
  // each in ascending order just before it is removed; the tree never reads a
  // key again after passing it to on_erase (so on_erase may release what the
  // key refers to). Ranks are clamped to size(). Returns the number removed.
  // O(k log n) for a small range; a range of more than half the tree rebuilds
  // the survivors into a perfectly balanced tree in O(n) instead.
  template <typename OnErase>
  size_t EraseRange(size_t first, size_t last, OnErase&& on_erase) {
    const size_t n = size();
    last = std::min(last, n);
    if (first >= last) return 0;
    const size_t count = last - first;
    if (count * 2 > n) {
      // Collect every node first: Successor() climbs through ancestors, so
      // nothing may be freed until the walk is over.
      std::vector<Node*> nodes;
      nodes.reserve(n);
      for (Node* node = MinNode(root_); node != nullptr; node = Successor(node)) {
        nodes.push_back(node);
      }
      for (size_t rank = first; rank < last; ++rank) {
        on_erase(static_cast<const Key&>(nodes[rank]->key));
        DeleteNode(nodes[rank]);
      }
      nodes.erase(nodes.begin() + static_cast<std::ptrdiff_t>(first),
                  nodes.begin() + static_cast<std::ptrdiff_t>(last));
      root_ = BuildBalanced(nodes.data(), nodes.size(), nullptr);
      return count;
    }
    Node* node = SelectNode(first);
    for (size_t i = 0; i < count; ++i) {
      Node* next = Successor(node);
      on_erase(static_cast<const Key&>(node->key));
      EraseNode(node);
      node = next;
    }
    return count;
  }
  size_t EraseRange(size_t first, size_t last) {
    return EraseRange(first, last, [](const Key&) {});
  }

  // Replaces the contents with the keys of [first, last) in O(n), building a
  // perfectly balanced tree (bulk load for snapshots and copies).
  // REQUIRES: the keys are strictly increasing under Compare.
  template <typename It>
  void AssignSorted(It first, It last) {
    Clear();
    std::vector<Node*> nodes;
    if constexpr (std::is_base_of_v<std::forward_iterator_tag,
                                    typename std::iterator_traits<It>::iterator_category>) {
      nodes.reserve(static_cast<size_t>(std::distance(first, last)));
    }
    for (; first != last; ++first) nodes.push_back(NewNode(*first));
    root_ = BuildBalanced(nodes.data(), nodes.size(), nullptr);
  }

  // Removes every key. O(n).
  void Clear() {
    // Iterative post-order walk via parent pointers: no recursion, no stack.
    Node* node = root_;
    while (node != nullptr) {
      if (node->left() != nullptr) {
        node = std::exchange(node->left(), nullptr);
      } else if (node->right() != nullptr) {
        node = std::exchange(node->right(), nullptr);
      } else {
        Node* parent = node->parent;
        DeleteNode(node);
        node = parent;
      }
    }
    root_ = nullptr;
  }

  // Bytes of memory held by the tree's nodes and the tree object itself. Does
  // not include heap memory owned by the keys (e.g. long std::string keys).
  size_t MemoryUsage() const { return sizeof(*this) + size() * NodeBytes(); }
  // Approximate bytes per node: the node plus glibc malloc's 8-byte chunk
  // header, rounded up to its 16-byte granularity.
  static constexpr size_t NodeBytes() { return (sizeof(Node) + 8 + 15) / 16 * 16; }

  // Verifies every structural invariant: parent links, subtree sizes, stored
  // heights, balance factors in [-1, 1] and strictly increasing in-order keys.
  // Returns kInternal describing the first violation. O(n); for tests.
  Status CheckInvariants() const {
    if (root_ != nullptr && root_->parent != nullptr) {
      return Status::Internal("root has a parent");
    }
    std::string error;
    const Key* prev = nullptr;
    CheckSubtree(root_, &prev, &error);
    if (!error.empty()) return Status::Internal(error);
    return Status::Ok();
  }

 private:
  struct Node {
    template <typename K>
    explicit Node(K&& k) : key(std::forward<K>(k)) {}
    Node*& left() { return child[0]; }
    Node*& right() { return child[1]; }
    Node* left() const { return child[0]; }
    Node* right() const { return child[1]; }

    Key key;
    // Children as an array so descents pick one by index (child[!go_left])
    // instead of branching: the comparison outcome is a coin flip the branch
    // predictor loses; the indexed form made random inserts ~13% faster.
    Node* child[2] = {nullptr, nullptr};
    Node* parent = nullptr;
    // 32-bit size and 8-bit height keep a node with a 24-byte key (a sorted
    // set entry) at 56 bytes, one 64-byte malloc chunk instead of 80.
    uint32_t size = 1;   // nodes in the subtree rooted here
    uint8_t height = 1;  // a leaf has height 1; an empty subtree 0
  };

  using NodeAlloc = typename std::allocator_traits<Allocator>::template rebind_alloc<Node>;
  using NodeTraits = std::allocator_traits<NodeAlloc>;

  template <typename K>
  Node* NewNode(K&& key) {
    Node* node = NodeTraits::allocate(alloc_, 1);
    NodeTraits::construct(alloc_, node, std::forward<K>(key));
    return node;
  }
  void DeleteNode(Node* node) {
    NodeTraits::destroy(alloc_, node);
    NodeTraits::deallocate(alloc_, node, 1);
  }

  static size_t SizeOf(const Node* n) { return n == nullptr ? 0 : n->size; }
  static int HeightOf(const Node* n) { return n == nullptr ? 0 : n->height; }
  static void Update(Node* n) {
    n->size = static_cast<uint32_t>(SizeOf(n->left()) + SizeOf(n->right()) + 1);
    n->height = static_cast<uint8_t>(std::max(HeightOf(n->left()), HeightOf(n->right())) + 1);
  }
  static Node* MinNode(Node* n) {
    if (n == nullptr) return nullptr;
    while (n->left() != nullptr) n = n->left();
    return n;
  }
  static Node* MaxNode(Node* n) {
    if (n == nullptr) return nullptr;
    while (n->right() != nullptr) n = n->right();
    return n;
  }
  static Node* Successor(Node* n) {
    if (n->right() != nullptr) return MinNode(n->right());
    Node* parent = n->parent;
    while (parent != nullptr && n == parent->right()) {
      n = parent;
      parent = parent->parent;
    }
    return parent;
  }
  static Node* Predecessor(Node* n) {
    if (n->left() != nullptr) return MaxNode(n->left());
    Node* parent = n->parent;
    while (parent != nullptr && n == parent->left()) {
      n = parent;
      parent = parent->parent;
    }
    return parent;
  }

  // One comparison per level (std::set's trick): remember the last node that
  // is not greater than `key`; it is the only candidate for equality.
  Node* FindNode(const Key& key) const {
    Node* candidate = nullptr;
    for (Node* node = root_; node != nullptr;) {
      const bool go_left = compare_(key, node->key);
      candidate = go_left ? candidate : node;
      node = node->child[!go_left];
    }
    return candidate != nullptr && !compare_(candidate->key, key) ? candidate : nullptr;
  }

  Node* SelectNode(size_t rank) const {
    Node* node = root_;
    while (node != nullptr) {
      const size_t left = SizeOf(node->left());
      if (rank < left) {
        node = node->left();
      } else if (rank == left) {
        return node;
      } else {
        rank -= left + 1;
        node = node->right();
      }
    }
    return nullptr;
  }

  template <typename K>
  bool InsertImpl(K&& key) {
    // Sizes along the path are bumped on the way down, while each node is in
    // cache anyway; the rare duplicate undoes that with a walk back up.
    Node* parent = nullptr;
    Node* candidate = nullptr;  // last node not greater than key, as in FindNode
    Node** link = &root_;
    while (*link != nullptr) {
      parent = *link;
      ++parent->size;
      const bool go_left = compare_(key, parent->key);
      candidate = go_left ? candidate : parent;
      link = &parent->child[!go_left];
    }
    if (candidate != nullptr && !compare_(candidate->key, key)) {
      for (; parent != nullptr; parent = parent->parent) --parent->size;
      return false;
    }
    Node* node = NewNode(std::forward<K>(key));
    node->parent = parent;
    *link = node;
    Rebalance(parent, /*shrink_ancestors=*/false);
    return true;
  }

  // Unlinks and deletes `z`, then restores sizes, heights and balance.
  void EraseNode(Node* z) {
    Node* fix_from;
    if (z->left() != nullptr && z->right() != nullptr) {
      // Move the successor s (the leftmost node of z's right subtree, which
      // has no left child) into z's place.
      Node* s = MinNode(z->right());
      if (s->parent != z) {
        fix_from = s->parent;
        fix_from->left() = s->right();
        if (s->right() != nullptr) s->right()->parent = fix_from;
        s->right() = z->right();
        z->right()->parent = s;
      } else {
        fix_from = s;
      }
      s->left() = z->left();
      z->left()->parent = s;
      s->parent = z->parent;
      ReplaceChild(z->parent, z, s);
      // s takes over z's position, so it starts from z's (pre-erase) height
      // and size; Rebalance compares against the old height to stop early.
      s->height = z->height;
      s->size = z->size;
    } else {
      Node* child = z->left() != nullptr ? z->left() : z->right();
      if (child != nullptr) child->parent = z->parent;
      ReplaceChild(z->parent, z, child);
      fix_from = z->parent;
    }
    DeleteNode(z);
    Rebalance(fix_from, /*shrink_ancestors=*/true);
  }

  void ReplaceChild(Node* parent, Node* old_child, Node* new_child) {
    if (parent == nullptr) {
      root_ = new_child;
    } else if (parent->left() == old_child) {
      parent->left() = new_child;
    } else {
      parent->right() = new_child;
    }
  }

  // Right rotation at x (left rotation is the mirror image):
  //       x              y
  //     /   \          /   \   .
  //    y     c   ->   a     x
  //  /   \                /   \   .
  // a     b              b     c
  Node* RotateRight(Node* x) {
    Node* y = x->left();
    x->left() = y->right();
    if (y->right() != nullptr) y->right()->parent = x;
    y->parent = x->parent;
    ReplaceChild(x->parent, x, y);
    y->right() = x;
    x->parent = y;
    Update(x);
    Update(y);
    return y;
  }
  Node* RotateLeft(Node* x) {
    Node* y = x->right();
    x->right() = y->left();
    if (y->left() != nullptr) y->left()->parent = x;
    y->parent = x->parent;
    ReplaceChild(x->parent, x, y);
    y->left() = x;
    x->parent = y;
    Update(x);
    Update(y);
    return y;
  }

  // Restores the tree after one node was added below `node` or removed from
  // below it. Walks towards the root refreshing heights and sizes and rotating
  // wherever a balance factor left [-1, 1]. Once a subtree ends up with its
  // old height, nothing above it can change but subtree sizes: after an
  // insert those were already bumped on the way down, after an erase
  // (shrink_ancestors) the rest of the walk only decrements them, no longer
  // reading the sibling subtrees, which are usually cold in cache. O(log n).
  void Rebalance(Node* node, bool shrink_ancestors) {
    while (node != nullptr) {
      const int old_height = node->height;
      Update(node);
      const int balance = HeightOf(node->left()) - HeightOf(node->right());
      if (balance > 1) {
        if (HeightOf(node->left()->left()) < HeightOf(node->left()->right())) RotateLeft(node->left());
        node = RotateRight(node);
      } else if (balance < -1) {
        if (HeightOf(node->right()->right()) < HeightOf(node->right()->left())) RotateRight(node->right());
        node = RotateLeft(node);
      }
      Node* parent = node->parent;
      if (node->height == old_height) {
        if (shrink_ancestors) {
          for (; parent != nullptr; parent = parent->parent) --parent->size;
        }
        return;
      }
      node = parent;
    }
  }

  // Links nodes[0, n) (in key order) into a perfectly balanced subtree and
  // returns its root. Halving gives subtrees whose sizes differ by at most one,
  // hence heights that differ by at most one: a valid AVL tree.
  static Node* BuildBalanced(Node** nodes, size_t n, Node* parent) {
    if (n == 0) return nullptr;
    const size_t mid = n / 2;
    Node* root = nodes[mid];
    root->parent = parent;
    root->left() = BuildBalanced(nodes, mid, root);
    root->right() = BuildBalanced(nodes + mid + 1, n - mid - 1, root);
    Update(root);
    return root;
  }

  // Checks the subtree at `n`; records the first violation in *error.
  void CheckSubtree(const Node* n, const Key** prev, std::string* error) const {
    if (n == nullptr || !error->empty()) return;
    for (const Node* child : {n->left(), n->right()}) {
      if (child != nullptr && child->parent != n) *error = "child's parent link is wrong";
    }
    CheckSubtree(n->left(), prev, error);
    if (!error->empty()) return;
    if (*prev != nullptr && !compare_(**prev, n->key)) {
      *error = "keys are not strictly increasing in order";
      return;
    }
    *prev = &n->key;
    CheckSubtree(n->right(), prev, error);
    if (!error->empty()) return;
    if (n->size != SizeOf(n->left()) + SizeOf(n->right()) + 1) {
      *error = "subtree size is wrong: stored " + std::to_string(n->size);
    } else if (n->height != std::max(HeightOf(n->left()), HeightOf(n->right())) + 1) {
      *error = "stored height is wrong: " + std::to_string(n->height);
    } else if (const int b = HeightOf(n->left()) - HeightOf(n->right()); b < -1 || b > 1) {
      *error = "balance factor out of [-1, 1]: " + std::to_string(b);
    }
  }

  [[no_unique_address]] Compare compare_;
  [[no_unique_address]] NodeAlloc alloc_;
  Node* root_ = nullptr;
};

}  // namespace ragkv::avl
