// hrmc-opt fuse_kernels.mlir --hrm-fuse-kernels | FileCheck fuse_kernels.mlir
// The kernels stage on one fused kernel (add, then rms_norm, from partition.mlir): hrm ops become
// linalg on tensors, leaving three loop nests after fusion: the add, the sum of squares (a reduction
// with reassociation, so it vectorises), and the scale by rsqrt(mean + eps), which reads the add's
// result and the row sums.
// CHECK-LABEL: func.func @fused_1
// CHECK-NOT: hrm.
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]{{.*}} ins(%arg0, %arg1
// CHECK: arith.addf
// CHECK: %[[SQ:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[SUM]]
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc>
// CHECK: %[[ROWS:.*]] = tensor.expand_shape %[[SQ]]
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[SUM]], %[[ROWS]]
// CHECK: math.rsqrt
// CHECK: bufferization.materialize_in_destination %[[OUT]] in %arg2
// CHECK-NOT: hrm.
module {
  func.func @fused_1(%arg0: tensor<?x4xf32> {bufferization.writable = false}, %arg1: tensor<?x4xf32> {bufferization.writable = false}, %arg2: tensor<?x4xf32> {bufferization.writable = true}) -> tensor<?x4xf32> {
    %0 = hrm.add %arg0, %arg1 {hrm.step = "H0:"} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
    %1 = hrm.rms_norm %0 {eps = 9.9999999999999995E-7 : f64, hrm.step = "H0:"} : tensor<?x4xf32>
    %2 = bufferization.materialize_in_destination %1 in %arg2 : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
    return %2 : tensor<?x4xf32>
  }
}
