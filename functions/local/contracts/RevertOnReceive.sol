// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @notice Refuses every payment: a native send to it is mined with status 0 and moves no value.
contract RevertOnReceive {
    error Refused();

    receive() external payable {
        revert Refused();
    }

    fallback() external payable {
        revert Refused();
    }
}
