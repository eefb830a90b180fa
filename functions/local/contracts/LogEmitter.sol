// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @notice Emits any log: for testing that readers survive odd events, such as an ERC-721 Transfer (four topics)
/// or a Transfer with the wrong data length, coming from a hot wallet's address.
contract LogEmitter {
    error TooManyTopics();

    function emitLog(bytes32[] calldata topics, bytes calldata data) external {
        bytes memory d = data;
        uint256 n = topics.length;
        if (n > 4) revert TooManyTopics();
        bytes32 t0 = n > 0 ? topics[0] : bytes32(0);
        bytes32 t1 = n > 1 ? topics[1] : bytes32(0);
        bytes32 t2 = n > 2 ? topics[2] : bytes32(0);
        bytes32 t3 = n > 3 ? topics[3] : bytes32(0);
        assembly {
            let p := add(d, 32)
            let len := mload(d)
            switch n
            case 0 { log0(p, len) }
            case 1 { log1(p, len, t0) }
            case 2 { log2(p, len, t0, t1) }
            case 3 { log3(p, len, t0, t1, t2) }
            default { log4(p, len, t0, t1, t2, t3) }
        }
    }
}
