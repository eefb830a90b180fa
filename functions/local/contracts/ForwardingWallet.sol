// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @notice A contract hot wallet (Safe-style, much reduced): its owner moves its ETH with internal calls,
/// so the value leaves the wallet in a call frame, not as a transaction's value.
contract ForwardingWallet {
    error NotOwner();
    error SendFailed();
    error Undone();

    address public immutable owner;

    constructor() payable {
        owner = msg.sender;
    }

    receive() external payable {}

    /// @notice Sends `amounts[i]` to `recipients[i]`, one internal call each.
    function send(address payable[] calldata recipients, uint256[] calldata amounts) external {
        if (msg.sender != owner) revert NotOwner();
        for (uint256 i = 0; i < recipients.length; i++) {
            (bool ok, ) = recipients[i].call{value: amounts[i]}("");
            if (!ok) revert SendFailed();
        }
    }

    /// @notice Sends, then reverts the whole transaction: the internal send succeeds on its own but moves nothing.
    function sendThenRevert(address payable to, uint256 amount) external {
        if (msg.sender != owner) revert NotOwner();
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert SendFailed();
        revert Undone();
    }

    /// @notice Tries a send that may fail and carries on: a failed inner call, a successful transaction.
    function trySend(address payable to, uint256 amount) external returns (bool ok) {
        if (msg.sender != owner) revert NotOwner();
        (ok, ) = to.call{value: amount}("");
    }
}
